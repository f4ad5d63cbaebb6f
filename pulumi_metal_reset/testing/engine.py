"""A small TEST engine: runs a Pulumi Python program the way the ``pulumi`` CLI does.

The Pulumi CLI (a Go binary) is not available everywhere we test, so this module stands in for
the CLI, the Go engine and the language host, and nothing else:

* the program runs in a child process through the real Python SDK (``pulumi.runtime``), started
  like the language host's exec script starts it (:mod:`._run_program`);
* the SDK talks real gRPC to a ResourceMonitor and Engine served here (:mod:`._services`);
* dynamic resources go to the real ``python -u -m pulumi.dynamic`` server (:class:`ProviderServer`),
  with the calls, secret stripping and "olds" the real engine uses (:mod:`._provider`), and the
  engine's step rules (:mod:`._steps`, :mod:`._deployment`, :mod:`._plan`, :mod:`._reads`).

What the test engine leaves out:

- It is a test harness, never a way to deploy: state is a plain JSON file with secrets in clear
  text, kept outside the program's directory unless ``state_path`` says otherwise.
- Only Python dynamic providers are supported; the default provider resource is not kept in
  state (an export adds it) and explicit providers, aliases, custom timeouts, transforms,
  resource hooks, ``replace_with``/``deleted_with``, ``--target-dependents``, ``--exclude`` and
  the ``import`` resource option are not modelled. A resource registered with ``import``, or
  with an alias that would rename a resource in state, fails its step in one sentence rather
  than run as something the CLI would not do; an alias that names nothing in state is inert.
- ``up``, ``refresh`` and ``destroy`` run as with ``--yes --skip-preview``: the preview pass the
  CLI runs first is skipped, except for ``up(plan=...)`` and ``up(strict=True)``, whose preview
  is part of the plan check.
- Deletes follow reverse state order instead of the engine's dependency graph, so that they run
  in a fixed order. A failed step does not cancel the steps of registrations read before it
  failed (the CLI's executor may skip those it has not started); which independent
  registrations are read before a failed Create or Update ends is a race, in the CLI as here.
- A resource left pending deletion by an earlier run is deleted without a step of its own. The
  engine's ``DeleteReplacementStep`` (``GenerateDeletes``) is not logical, so ``--json`` and
  ``--diff`` output leave it out as this engine does (``display.go`` ``shouldShow``), but the
  CLI's progress display shows a row for it.
- Text output is the CLI's Policies, Diagnostics, Outputs and Resources sections and its
  ``--diff`` rendering, without colours and without the progress table's live rows or the
  duration.
- Policy packs (``policy_packs=``) run in ``preview`` and ``up`` only, one after another; the
  default provider resource is not analyzed, and AnalyzeStack is skipped after any reported
  error.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._deletes import generate_deletes
from ._deployment import Deployment, ResourceHook, RunOptions, StackHook
from ._export import WITHHELD, export_deployment
from ._plan import read_plan, write_plan
from ._policy_run import Packs, PolicyPackConfig, attach_policies
from ._program import run_program
from ._project import Project, ProjectError
from ._provider import ProviderClient
from ._reads import import_one, refresh_state, refresh_targets_found
from ._records import Kind, LogEntry, Step
from ._results import RunResult, build_result
from ._results import expect_no_changes as _expect_no_changes
from ._state import ResourceState, StackState, default_state_path, load_state, save_state
from ._targets import UrnTargets
from ._urns import ROOT_STACK_TYPE, make_urn
from ._wire import UNKNOWN, Secret, to_display
from .provider_server import ProviderServer

__all__ = [
    "UNKNOWN",
    "LogEntry",
    "ProjectError",
    "RunResult",
    "Secret",
    "Step",
    "TestEngine",
]


class TestEngine:
    """Runs one stack of a Pulumi Python program through the real SDK and provider server.

    A TEST engine, never a way to deploy (see the module docstring for what it leaves out).
    ``config`` and ``secret_config`` override ``Pulumi.<stack>.yaml``; keys without a namespace get
    the project's. ``provider_env`` is added to the provider process's environment (for example
    libfaketime's ``LD_PRELOAD``/``FAKETIME``). State lives in ``state_path``; by default under
    the system temp dir, keyed by the program directory and stack, never in the source tree. It
    is written by up, refresh, import and destroy, never by a preview; it is plain JSON, not
    encrypted. Create one engine per configuration: config is fixed when the engine is made.
    ``clock`` (seconds since the epoch) is the engine's own clock, for the ``created`` and
    ``modified`` times it records; libfaketime in ``provider_env`` moves only the provider's.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        program_dir: Path,
        *,
        stack: str = "dev",
        config: Mapping[str, str] | None = None,
        secret_config: Mapping[str, str] | None = None,
        state_path: Path | None = None,
        provider_env: Mapping[str, str] | None = None,
        organization: str = "organization",
        timeout: float = 120.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.project = Project.load(Path(program_dir))
        self.clock = clock
        self.stack = stack
        self.organization = organization
        self.timeout = timeout
        self.provider_env = dict(provider_env or {})
        self.state_path = (
            Path(state_path)
            if state_path is not None
            else default_state_path(self.project.root, stack)
        )
        merged = self.project.stack_config(stack)
        for key, value in (config or {}).items():
            merged[self.project.qualify(key)] = value
        secret_keys = set()
        for key, value in (secret_config or {}).items():
            merged[self.project.qualify(key)] = value
            secret_keys.add(self.project.qualify(key))
        self.config: dict[str, str] = merged
        self.secret_keys: frozenset[str] = frozenset(secret_keys)
        #: The seams for policy packs: called after each resource's Check (Remediate/Analyze)
        #: and once at the end of a run that succeeded (AnalyzeStack); see :mod:`._deployment`.
        self.resource_hooks: list[ResourceHook] = []
        self.stack_hooks: list[StackHook] = []

    # -- public operations --------------------------------------------------------------------

    def urn(self, type_token: str, name: str, *, parent_type: str = "") -> str:
        """The URN the engine gives a resource of this stack (for ``targets`` and ``replace``)."""
        qualified = f"{parent_type}${type_token}" if parent_type else type_token
        return make_urn(self.stack, self.project.name, qualified, name)

    def preview(
        self,
        *,
        targets: Iterable[str] | None = None,
        replace: Iterable[str] = (),
        refresh: bool = False,
        save_plan: Path | None = None,
        expect_no_changes: bool = False,
        policy_packs: Sequence[str | os.PathLike[str]] = (),
        policy_pack_configs: Sequence[PolicyPackConfig] | None = None,
    ) -> RunResult:
        """``pulumi preview``: Check and Diff run, nothing changes, state is not written.

        ``save_plan`` writes the update plan (``--save-plan``) when the preview succeeds.
        ``policy_packs`` (``--policy-pack``) runs each pack directory's Python policy pack
        (pulumi-policy must be installed: the ``testing`` extra), with one
        ``policy_pack_configs`` entry per pack (``--policy-pack-config``: a JSON file's path,
        its parsed document, or None). A mandatory violation fails the preview; the result
        holds every violation (``policy_violations``) and ``render()`` the Policies section.
        """
        options = self._options(True, targets, replace, refresh)
        options.generate_plan = save_plan is not None
        packs = (policy_packs, policy_pack_configs)
        result, deployment = self._run_program("preview", options, packs)
        result = _expect_no_changes(result, expect_no_changes, "preview")
        if save_plan is not None and result.ok:
            write_plan(Path(save_plan), deployment.new_plans, self._plan_config())
            # `pulumi preview --save-plan` (preview.go), after the display:
            result.command_info = (
                f"Update plan written to '{save_plan}'\nRun `pulumi up --plan='{save_plan}'` "
                "to constrain the update to the operations planned by this preview"
            )
        return result

    def up(
        self,
        *,
        targets: Iterable[str] | None = None,
        replace: Iterable[str] = (),
        refresh: bool = False,
        plan: Path | None = None,
        strict: bool = False,
        expect_no_changes: bool = False,
        policy_packs: Sequence[str | os.PathLike[str]] = (),
        policy_pack_configs: Sequence[PolicyPackConfig] | None = None,
    ) -> RunResult:
        """``pulumi up --yes --skip-preview``, or with ``plan``/``strict`` the preview and the
        update under one plan (``--plan``, ``--strict``). When that preview fails, its result
        is returned (``kind == "preview"``) and nothing changes. ``policy_packs`` as for
        :meth:`preview`; a mandatory violation makes its resource invalid: nothing is done to
        it and the update fails."""
        packs = (policy_packs, policy_pack_configs)
        if plan is not None or strict:
            resource_plans = read_plan(Path(plan)) if plan is not None else None
            options = self._options(True, targets, replace, refresh)
            options.plan = resource_plans
            options.generate_plan = strict
            preview, deployment = self._run_program("preview", options, packs)
            if not preview.ok:
                return preview
            options = self._options(False, targets, replace, refresh)
            options.plan = read_plan(Path(plan)) if plan is not None else deployment.new_plans
            result, _ = self._run_program("up", options, packs)
        else:
            options = self._options(False, targets, replace, refresh)
            result, _ = self._run_program("up", options, packs)
        return _expect_no_changes(result, expect_no_changes, "update")

    def refresh(
        self, *, targets: Iterable[str] | None = None, expect_no_changes: bool = False
    ) -> RunResult:
        """``pulumi refresh --yes --skip-preview``: Read every resource and keep what it returns."""
        options = self._options(False, targets, (), False)
        started = time.monotonic()
        state = self.load_state()
        deployment = self._deployment(state, options)
        resources = list(state.resources)
        try:
            if refresh_targets_found(deployment):
                resources = refresh_state(deployment, as_steps=True)
        finally:
            deployment.provider.close()
        new_state = StackState(self.project.name, self.stack, resources, state.outputs)
        save_state(self.state_path, new_state)
        result = build_result("refresh", deployment, new_state, "", started, None)
        return _expect_no_changes(result, expect_no_changes, "refresh")

    def destroy(self) -> RunResult:
        """``pulumi destroy --yes --skip-preview``: delete every resource in state, newest first."""
        started = time.monotonic()
        state = self.load_state()
        deployment = self._deployment(state, self._options(False, None, (), False))
        try:
            remaining = generate_deletes(deployment, program_ok=True)
        finally:
            deployment.provider.close()
        outputs = state.outputs if remaining else {}
        new_state = StackState(self.project.name, self.stack, remaining, outputs)
        save_state(self.state_path, new_state)
        return build_result("destroy", deployment, new_state, "", started, None)

    def import_resource(self, type_token: str, name: str, id_: str) -> RunResult:
        """``pulumi import <type> <name> <id> --yes``: the preview's import Read, then the import.

        The Read carries the ID and no inputs and no state. The Python dynamic-provider server
        needs the serialized provider from them, so for a dynamic resource it fails, as it does
        under the CLI; the result then reports that preview failure.
        """
        state = self.load_state()
        for dry_run in (True, False):
            started = time.monotonic()
            options = self._options(dry_run, None, (), False)
            deployment = self._deployment(state, options)
            urn = deployment.make_urn(deployment.stack_urn, type_token, name)
            try:
                imported = import_one(deployment, urn, type_token, id_)
            finally:
                deployment.provider.close()
            if imported is None or dry_run:
                new_state = state
            else:
                resources = list(state.resources)
                if not any(r.type == ROOT_STACK_TYPE for r in resources):
                    resources.insert(0, ResourceState(deployment.stack_urn, ROOT_STACK_TYPE, False))
                new_state = StackState(
                    state.project, state.stack, [*resources, imported], state.outputs
                )
                save_state(self.state_path, new_state)
            result = build_result("import", deployment, new_state, "", started, None)
            if not result.ok:
                return result
        return result

    def load_state(self) -> StackState:
        """The stack's current state (empty when there is none)."""
        return load_state(self.state_path, self.project.name, self.stack)

    def export(self, path: Path | None = None, *, show_secrets: bool = False) -> dict[str, Any]:
        """The stack as ``pulumi stack export`` prints it (written to ``path`` when given).

        Secrets keep the shape of an encrypted secret with the value withheld; ``show_secrets``
        writes them in plaintext, as ``--show-secrets`` does.
        """
        document = export_deployment(self.load_state(), show_secrets=show_secrets)
        if path is not None:
            Path(path).write_text(json.dumps(document, indent=4) + "\n", encoding="utf-8")
        return document

    # -- internals ----------------------------------------------------------------------------

    def _options(
        self, dry_run: bool, targets: Iterable[str] | None, replace: Iterable[str], refresh: bool
    ) -> RunOptions:
        return RunOptions(
            dry_run=dry_run,
            targets=UrnTargets.of(targets),
            replace_targets=UrnTargets.of(replace),
            refresh=refresh,
            resource_hooks=list(self.resource_hooks),
            stack_hooks=list(self.stack_hooks),
        )

    def _program_env(self) -> dict[str, str]:
        """The program's environment: ours, with the config as the language host passes it."""
        env = dict(os.environ)
        env["PULUMI_CONFIG"] = json.dumps(self.config)
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(sorted(self.secret_keys))
        return env

    def _plan_config(self) -> dict[str, Any]:
        return {
            key: {"secure": WITHHELD} if key in self.secret_keys else value
            for key, value in sorted(self.config.items())
        }

    def _deployment(self, state: StackState, options: RunOptions) -> Deployment:
        def factory() -> ProviderServer:
            return ProviderServer(
                self.project.pwd, project=self.project.name, env=self.provider_env
            )

        provider = ProviderClient(factory, self.config, self.secret_keys, call_timeout=self.timeout)
        return Deployment(
            project=self.project.name,
            stack=self.stack,
            old_resources=state.resources,
            old_outputs=state.outputs,
            provider=provider,
            options=options,
            clock=self.clock,
        )

    def _run_program(
        self, kind: Kind, options: RunOptions, packs: Packs | None = None
    ) -> tuple[RunResult, Deployment]:
        started = time.monotonic()
        state = self.load_state()
        d = self._deployment(state, options)
        program_error: str | None = None
        output = ""
        resources, outputs = list(state.resources), dict(state.outputs)
        policies = attach_policies(
            d, packs, self.project.name, self.organization, self.config, self.secret_keys
        )
        try:
            if d.errored:  # the policy packs did not start
                program_error = "policy packs could not be loaded"
            else:
                refreshed = not options.refresh or refresh_targets_found(d)
                if options.refresh and refreshed:
                    d.rebase(refresh_state(d, as_steps=False))
                    d.bailed = d.errored  # `refresh`: a failed Read bails before the program
                if not refreshed or (not d.bailed and not d.check_replace_targets()):
                    program_error = "one or more targets could not be found in the stack"
                elif not d.bailed:
                    program_error, output = run_program(
                        d,
                        self.project,
                        self.stack,
                        self.organization,
                        self._program_env(),
                        self.timeout,
                    )
                program_ok = program_error is None and not d.bailed
                resources = generate_deletes(d, program_ok)
                if program_ok and d.check_targets():
                    d.check_plan_complete()
                outputs = d.finish_stack_outputs() if program_ok else dict(state.outputs)
                if not d.errored:
                    for hook in options.stack_hooks:
                        hook(d, resources)
        finally:
            d.provider.close()
            if policies is not None:
                policies.close()
        new_state = StackState(self.project.name, self.stack, resources, outputs)
        if not options.dry_run:
            save_state(self.state_path, new_state)
        result = build_result(
            kind,
            d,
            new_state if not options.dry_run else state,
            output,
            started,
            program_error,
            policies.outcome() if policies is not None else None,
        )
        if options.dry_run:
            # A preview whose program never registered its outputs (it failed) changes none.
            planned = d.stack_outputs if d.stack_outputs is not None else state.outputs
            result.new_outputs = dict(planned)
            result.outputs = {k: to_display(v) for k, v in result.new_outputs.items()}
        return result, d

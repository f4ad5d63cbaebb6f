"""Policy packs in a test-engine run: ``preview(policy_packs=[...])``, ``up(policy_packs=[...])``.

Plugs :mod:`._policy` (the packs, started and called as the engine calls them) into the engine's
two seams, as ``pkg/engine/update.go`` and ``pkg/resource/deploy`` (v3.259.0) do:

- the packs start before the program runs (``newUpdateSource`` → ``loadPolicyPlugins``), with
  the stack's decrypted config; a pack that fails to start or whose config is invalid fails the
  run before the program;
- after each resource's Check: Remediate, then Analyze (``continueStepsFromImport``). A
  mandatory violation during ``up`` makes the resource invalid: the step generator bails
  (``resource <urn> is invalid``, reported by no diagnostic), so nothing is done to it. During a
  preview the steps go on and the run ends with ``preview failed``;
- at the end of a run that reported no error: AnalyzeStack on every resource's outputs; a
  mandatory violation there fails the run (``update failed`` / ``preview failed``).

Messages pass the CLI's secret filter (``logging.FilterString``): each secret config value of
three characters or more (not ``true``/``false``), and its JSON-escaped form, reads ``[secret]``.
Only ``preview`` and ``up`` run packs: ``pkg/engine/deployment.go`` says "Refresh and Import do
not execute Policy Packs", and ``destroy`` loads none (``newDestroySource``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Union

from ._deployment import Deployment, StepFailed
from ._policy import (
    AnalyzerOptions,
    PackInfo,
    PolicyPackError,
    PolicyPacks,
    PolicyRemediation,
    PolicyViolation,
    ProviderResource,
    StackResource,
    run_failed,
)
from ._records import Goal
from ._state import ResourceState
from ._urns import DYNAMIC_PROVIDER_TYPE, default_provider_urn
from ._wire import PropertyMap

#: A ``--policy-pack-config``: a JSON file's path, the parsed document, or None (no file).
PolicyPackConfig = Union[str, "os.PathLike[str]", Mapping[str, Any], None]

#: ``--policy-pack`` paths and their ``--policy-pack-config`` entries (None: no config files).
Packs = tuple[Sequence["str | os.PathLike[str]"], "Sequence[PolicyPackConfig] | None"]


@dataclass(frozen=True)
class PolicyOutcome:
    """What the packs of one run reported, for :class:`RunResult`."""

    packs: tuple[PackInfo, ...] = ()
    violations: tuple[PolicyViolation, ...] = ()
    remediations: tuple[PolicyRemediation, ...] = ()
    #: URNs an ``up`` refused to operate on (a mandatory violation made them invalid).
    invalid: tuple[str, ...] = ()


def load_configs(
    paths: Sequence[str | os.PathLike[str]], configs: Sequence[PolicyPackConfig] | None
) -> list[Mapping[str, Any] | None] | None:
    """``--policy-pack-config``: one per pack, read as JSON when given as a path."""
    if configs is None:
        return None
    if len(configs) != len(paths):
        raise PolicyPackError(
            'the number of "--policy-pack-config" flags must match the number of '
            '"--policy-pack" flags'
        )
    loaded: list[Mapping[str, Any] | None] = []
    for config in configs:
        if config is None or isinstance(config, Mapping):
            loaded.append(config)
            continue
        try:
            loaded.append(json.loads(Path(config).read_text(encoding="utf-8")))
        except (OSError, ValueError) as err:
            raise PolicyPackError(
                f"loading policy pack config from {os.fspath(config)!r}: {err}"
            ) from None
    return loaded


def secret_filter(secrets: Sequence[str]) -> Callable[[str], str]:
    """``logging.FilterString`` with the secret config registered (``replacements``)."""
    pairs: list[tuple[str, str]] = []
    for secret in secrets:
        if len(secret) < 3 or secret.lower() in ("true", "false"):
            continue
        pairs.append((secret, "[secret]"))
        escaped = json.dumps(secret)[1:-1]
        if escaped != secret:
            pairs.append((escaped, "[secret]"))

    def apply(text: str) -> str:
        for secret, replacement in pairs:
            text = text.replace(secret, replacement)
        return text

    return apply


class PolicyRun:
    """The packs of one run and what they reported; :meth:`resource_hook` and
    :meth:`stack_hook` are the engine's seams (see :mod:`._deployment`)."""

    def __init__(self, packs: PolicyPacks, secrets: Sequence[str], dry_run: bool) -> None:
        self.packs = packs
        self.dry_run = dry_run
        self._filter = secret_filter(secrets)
        self._lock = threading.Lock()
        self.violations: list[PolicyViolation] = []
        self.remediations: list[PolicyRemediation] = []
        self.invalid: list[str] = []

    @classmethod
    def start(
        cls,
        paths: Sequence[str | os.PathLike[str]],
        configs: Sequence[PolicyPackConfig] | None,
        *,
        project: str,
        stack: str,
        organization: str,
        dry_run: bool,
        config: Mapping[str, str],
        secret_keys: Sequence[str],
    ) -> PolicyRun:
        packs = PolicyPacks.start(
            paths,
            project=project,
            stack=stack,
            dry_run=dry_run,
            config=config,
            config_secret_keys=sorted(secret_keys),
            policy_configs=load_configs(paths, configs),
            organization=organization,
        )
        return cls(packs, [config[k] for k in secret_keys if k in config], dry_run)

    def _provider(self, d: Deployment, goal: Goal) -> ProviderResource | None:
        """The default provider of a dynamic resource (no inputs: no ``pulumi-python:`` config)."""
        if not goal.custom:
            return None
        urn = default_provider_urn(d.stack, d.project)
        return ProviderResource(urn, DYNAMIC_PROVIDER_TYPE, {})

    def _keep(self, found: Sequence[PolicyViolation]) -> list[PolicyViolation]:
        kept = [replace(v, message=self._filter(v.message)) for v in found]
        with self._lock:
            self.violations.extend(kept)
        return kept

    def resource_hook(
        self, d: Deployment, goal: Goal, urn: str, inputs: PropertyMap
    ) -> PropertyMap:
        """Remediate and Analyze on the checked inputs (``continueStepsFromImport``)."""
        options = AnalyzerOptions(
            protect=bool(goal.protect),
            ignore_changes=tuple(goal.ignore_changes),
            delete_before_replace=goal.delete_before_replace,
            additional_secret_outputs=tuple(goal.additional_secret_outputs),
            parent=goal.parent,
        )
        try:
            analysis = self.packs.analyze(
                urn, goal.type, inputs, options=options, provider=self._provider(d, goal)
            )
        except PolicyPackError as err:
            d.error(urn, str(err))
            raise StepFailed(urn) from None
        found = self._keep(analysis.violations)
        with self._lock:
            self.remediations.extend(analysis.remediations)
        if run_failed(found):
            if not self.dry_run:  # invalid: the step generator bails, reporting nothing
                with self._lock:
                    self.invalid.append(urn)
                raise StepFailed(urn)
            d.mark_failed()  # sawError: "preview failed" at the end
        return dict(analysis.inputs)

    def stack_hook(self, d: Deployment, resources: list[ResourceState]) -> None:
        """AnalyzeStack on the final outputs (``AnalyzeResources``)."""
        provider_urn = default_provider_urn(d.stack, d.project)
        stack = [
            StackResource(
                r.urn,
                r.type,
                r.outputs,
                options=AnalyzerOptions(
                    protect=r.protect,
                    ignore_changes=tuple(r.ignore_changes),
                    delete_before_replace=(
                        d.goals[r.urn].delete_before_replace if r.urn in d.goals else None
                    ),
                    additional_secret_outputs=tuple(r.additional_secret_outputs),
                    parent=r.parent,
                ),
                provider=(
                    ProviderResource(provider_urn, DYNAMIC_PROVIDER_TYPE, {}) if r.custom else None
                ),
                parent=r.parent,
                dependencies=tuple(r.dependencies),
                property_dependencies=r.property_dependencies,
            )
            for r in resources
            if not r.delete
        ]
        try:
            found = self._keep(self.packs.analyze_stack(stack))
        except PolicyPackError as err:
            d.error("", str(err))
            return
        if run_failed(found):
            d.mark_failed()

    def outcome(self) -> PolicyOutcome:
        with self._lock:
            return PolicyOutcome(
                tuple(self.packs.packs),
                tuple(self.violations),
                tuple(self.remediations),
                tuple(self.invalid),
            )

    def close(self) -> None:
        self.packs.close()


def attach_policies(
    d: Deployment,
    packs: Packs | None,
    project: str,
    organization: str,
    config: Mapping[str, str],
    secret_keys: Iterable[str],
) -> PolicyRun | None:
    """Start the packs before the program runs and plug them into ``d``'s seams. A pack that
    cannot start (or whose config is invalid) is reported as an error: the run then fails
    before the program, as ``loadPolicyPlugins`` failing fails ``newUpdateSource``."""
    if packs is None or not packs[0]:
        return None
    paths, configs = packs
    try:
        run = PolicyRun.start(
            paths,
            configs,
            project=project,
            stack=d.stack,
            organization=organization,
            dry_run=d.dry_run,
            config=config,
            secret_keys=sorted(secret_keys),
        )
    except PolicyPackError as err:
        d.error("", str(err))
        return None
    d.options.resource_hooks.append(run.resource_hook)
    d.options.stack_hooks.append(run.stack_hook)
    return run

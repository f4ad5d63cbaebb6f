"""A small TEST engine: runs a Pulumi Python program the way ``pulumi preview/up/destroy`` do.

The Pulumi CLI (a Go binary) is not available everywhere we test, so this module stands in for
the CLI, the Go engine and the language host, and nothing else:

* the program runs in a child process through the real Python SDK (``pulumi.runtime``), started
  like the language host's exec script starts it (:mod:`._run_program`);
* the SDK talks real gRPC to a ResourceMonitor and Engine served here (:mod:`._deployment`);
* dynamic resources go to the real ``python -u -m pulumi.dynamic`` server (:class:`ProviderServer`),
  with the calls, secret stripping and "olds" the real engine uses.

It is a test harness, never a way to deploy: state is a plain JSON file (secrets in clear text),
only Python dynamic providers are supported, there is no refresh, import, targeting or plan
file, deletes follow reverse registration order instead of a dependency graph, and a failed step
does not cancel independent steps (like ``--continue-on-error``, so runs stay deterministic).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import grpc
import yaml
from pulumi.runtime.proto import engine_pb2_grpc, resource_pb2_grpc

from . import _run_program
from ._deployment import (
    ROOT_STACK_TYPE,
    Deployment,
    EngineServicer,
    LogEntry,
    MonitorServicer,
    Step,
)
from ._state import StackState, load_state, save_state
from ._wire import UNKNOWN, Secret, to_display
from .provider_server import GRPC_OPTIONS, ProviderServer

__all__ = [
    "UNKNOWN",
    "LogEntry",
    "ProjectError",
    "ProviderServer",
    "RunResult",
    "Secret",
    "Step",
    "TestEngine",
]

Kind = Literal["preview", "up", "destroy"]

_SYMBOLS = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": " "}
_HEADERS = {"preview": "Previewing update", "up": "Updating", "destroy": "Destroying"}
_SUMMARY = {
    "create": "to create",
    "update": "to update",
    "replace": "to replace",
    "delete": "to delete",
}


class ProjectError(ValueError):
    """Pulumi.yaml or Pulumi.<stack>.yaml cannot be used by the test engine."""


@dataclass
class RunResult:
    """What one preview, up or destroy did, as a test would inspect it."""

    kind: Kind
    stack: str
    ok: bool
    #: The CLI's error text: step failures (``<type> resource '<name>': ...``) or the program's.
    error: str | None
    steps: list[Step]
    #: Stack outputs; secrets as :class:`Secret`, preview unknowns as :data:`UNKNOWN`.
    outputs: dict[str, Any]
    logs: list[LogEntry]
    #: ``(method, urn)`` of every call sent to the provider server, in order (Configure: urn "").
    provider_calls: list[tuple[str, str]]
    #: The program process's stdout and stderr.
    program_output: str = ""
    #: The provider process's stdout and stderr.
    provider_output: str = ""
    duration: float = 0.0

    def step(self, name: str) -> Step:
        """The step for the resource named ``name`` (KeyError when there is none)."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"no step for a resource named {name!r}; steps: {self.ops()}")

    def ops(self) -> dict[str, str]:
        """Resource name -> operation, for every step except the root stack's."""
        return {s.name: s.op for s in self.steps if s.type != ROOT_STACK_TYPE}

    def provider_methods(self) -> list[str]:
        """Just the method names of :attr:`provider_calls`."""
        return [method for method, _ in self.provider_calls]

    def format_plan(self) -> str:
        """The steps like the CLI prints them (unchanged resources folded into the summary)."""
        lines = [f"{_HEADERS[self.kind]} ({self.stack}):"]
        for step in self.steps:
            if step.op == "same":
                continue
            line = f"    {_SYMBOLS[step.op]:<2} {step.type}  {step.name}  {step.op}"
            if step.diff_marks:
                line += f"  [diff: {','.join(step.diff_marks)}]"
            if step.error:
                line += "  **failed**"
            lines.append(line)
        return "\n".join(lines)

    def format_outputs(self) -> str:
        """The stack outputs like the CLI prints them, secrets as ``[secret]``."""
        if not self.outputs:
            return ""
        lines = ["Outputs:"]
        for key in sorted(self.outputs):
            lines.append(f"    {key}: {_render_value(self.outputs[key])}")
        return "\n".join(lines)

    def render(self) -> str:
        """Plan, outputs, resource summary and diagnostics as one text, secrets masked."""
        parts = [self.format_plan()]
        if self.outputs:
            parts.append(self.format_outputs())
        counts: dict[str, int] = {}
        for step in self.steps:
            counts[step.op] = counts.get(step.op, 0) + 1
        summary = ["Resources:"]
        summary += [
            f"    {_SYMBOLS[op]} {counts[op]} {_SUMMARY[op]}" for op in _SUMMARY if op in counts
        ]
        if counts.get("same"):
            summary.append(f"    {counts['same']} unchanged")
        parts.append("\n".join(summary))
        if self.error:
            body = "\n".join("    " + line for line in self.error.splitlines())
            parts.append("Diagnostics:\n" + body)
        return "\n\n".join(parts) + "\n"


def _render_value(value: Any) -> str:
    if isinstance(value, (Secret, type(UNKNOWN))):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_render_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{k}: {_render_value(v)}" for k, v in sorted(value.items()))
        return "{" + inner + "}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value)


def _config_string(value: Any) -> str:
    """Config values reach programs and providers as strings; objects as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


@dataclass(frozen=True)
class Project:
    """What the test engine takes from Pulumi.yaml."""

    name: str
    root: Path
    #: The program's working directory (the ``main`` folder, or the project root).
    pwd: Path
    #: What the exec script runs: a directory holding ``__main__.py``, or a file.
    program: Path

    @classmethod
    def load(cls, program_dir: Path) -> Project:
        """Read Pulumi.yaml the way the CLI resolves ``runtime`` and ``main``."""
        root = Path(program_dir).resolve()
        path = root / "Pulumi.yaml"
        if not path.exists():
            raise ProjectError(f"no Pulumi.yaml in {root}")
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ProjectError(f"{path}: 'name' is required")
        runtime = data.get("runtime")
        runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
        if runtime_name != "python":
            raise ProjectError(f"{path}: runtime {runtime_name!r} is not 'python'")
        main = data.get("main")
        pwd, program = root, root
        if main is not None:
            program = (root / str(main)).resolve()
            if not program.is_relative_to(root):
                raise ProjectError(f"{path}: 'main' must be inside the project directory")
            if program.is_dir():
                pwd = program
            elif not program.exists():
                raise ProjectError(f"{path}: 'main' {main!r} does not exist")
        if program.is_dir() and not (program / "__main__.py").exists():
            raise ProjectError(f"no __main__.py in {program}")
        return cls(name=data["name"], root=root, pwd=pwd, program=program)

    def stack_config(self, stack: str) -> dict[str, str]:
        """Plain values from Pulumi.<stack>.yaml ``config:``, keys namespaced."""
        path = self.root / f"Pulumi.{stack}.yaml"
        if not path.exists():
            return {}
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        config = data.get("config") or {}
        if not isinstance(config, dict):
            raise ProjectError(f"{path}: 'config' must be a mapping")
        result = {}
        for key, value in config.items():
            if isinstance(value, dict) and "secure" in value:
                raise ProjectError(
                    f"{path}: {key}: encrypted 'secure:' values are not supported by the test "
                    "engine; pass the value in TestEngine(secret_config=...)"
                )
            result[self.qualify(str(key))] = _config_string(value)
        return result

    def qualify(self, key: str) -> str:
        """``key`` -> ``<project>:key``; namespaced keys stay as they are."""
        return key if ":" in key else f"{self.name}:{key}"


class TestEngine:
    """Runs one stack of a Pulumi Python program through the real SDK and provider server.

    A TEST engine, never a way to deploy (see the module docstring for what it leaves out).
    ``config`` and ``secret_config`` override ``Pulumi.<stack>.yaml``; keys without a namespace get
    the project's. ``provider_env`` is added to the provider process's environment (for example
    libfaketime's ``LD_PRELOAD``/``FAKETIME``). State lives in ``state_path`` (default
    ``<program_dir>/.pulumi-test-state/<stack>.json``), written by up and destroy, never by
    preview; it is plain, unencrypted JSON.
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
    ) -> None:
        self.project = Project.load(Path(program_dir))
        self.stack = stack
        self.organization = organization
        self.timeout = timeout
        self.provider_env = dict(provider_env or {})
        self.state_path = (
            Path(state_path)
            if state_path is not None
            else self.project.root / ".pulumi-test-state" / f"{stack}.json"
        )
        merged = self.project.stack_config(stack)
        secret_keys = set()
        for key, value in (config or {}).items():
            merged[self.project.qualify(key)] = value
            secret_keys.discard(self.project.qualify(key))
        for key, value in (secret_config or {}).items():
            merged[self.project.qualify(key)] = value
            secret_keys.add(self.project.qualify(key))
        self.config: dict[str, str] = merged
        self.secret_keys: frozenset[str] = frozenset(secret_keys)

    # -- public operations --------------------------------------------------------------------

    def preview(self) -> RunResult:
        """``pulumi preview``: Check and Diff run, nothing is created, state is not written."""
        return self._run_program("preview")

    def up(self) -> RunResult:
        """``pulumi up --yes``: run the program, apply the steps, write state."""
        return self._run_program("up")

    def destroy(self) -> RunResult:
        """``pulumi destroy --yes``: delete every resource in state (reverse order)."""
        started = time.monotonic()
        state = self.load_state()
        deployment = self._deployment(dry_run=False, state=state)
        try:
            remaining = deployment.destroy()
        finally:
            deployment.close()
        outputs = state.outputs if remaining else {}
        save_state(self.state_path, StackState(self.project.name, self.stack, remaining, outputs))
        return self._result("destroy", deployment, outputs, "", started, program_error=None)

    def load_state(self) -> StackState:
        """The stack's current state (empty when there is none)."""
        return load_state(self.state_path, self.project.name, self.stack)

    # -- internals ----------------------------------------------------------------------------

    def _deployment(self, *, dry_run: bool, state: StackState) -> Deployment:
        def factory() -> ProviderServer:
            return ProviderServer(
                self.project.pwd, project=self.project.name, env=self.provider_env
            )

        return Deployment(
            project=self.project.name,
            stack=self.stack,
            dry_run=dry_run,
            config=self.config,
            secret_keys=self.secret_keys,
            old_resources=state.resources,
            provider_factory=factory,
        )

    def _run_program(self, kind: Kind) -> RunResult:
        started = time.monotonic()
        dry_run = kind == "preview"
        state = self.load_state()
        deployment = self._deployment(dry_run=dry_run, state=state)
        parallel = 4 * (os.cpu_count() or 1)
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=64), options=GRPC_OPTIONS)
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(
            MonitorServicer(deployment, parallel=parallel), server
        )
        engine_pb2_grpc.add_EngineServicer_to_server(EngineServicer(deployment), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        address = f"127.0.0.1:{port}"
        try:
            program_error, output = self._exec_program(address, dry_run, parallel)
            resources = deployment.finish(program_ok=program_error is None)
        finally:
            server.stop(grace=None)
            deployment.close()
        outputs = deployment.stack_outputs if program_error is None else state.outputs
        if not dry_run:
            save_state(
                self.state_path,
                StackState(self.project.name, self.stack, resources, outputs),
            )
        return self._result(kind, deployment, outputs, output, started, program_error)

    def _exec_program(self, address: str, dry_run: bool, parallel: int) -> tuple[str | None, str]:
        """Run the program like the language host; returns (error or None, output)."""
        project = self.project
        command = [
            sys.executable,
            _run_program.__file__,
            "--monitor",
            address,
            "--engine",
            address,
            "--project",
            project.name,
            "--stack",
            self.stack,
            "--pwd",
            str(project.pwd),
            "--root_directory",
            str(project.root),
            "--dry_run",
            "true" if dry_run else "false",
            "--parallel",
            str(parallel),
            "--organization",
            self.organization,
            str(project.program),
        ]
        env = dict(os.environ)
        env["PULUMI_CONFIG"] = json.dumps(self.config)
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(sorted(self.secret_keys))
        try:
            proc = subprocess.run(
                command,
                cwd=project.pwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            out = (exc.stdout or b"").decode("utf-8", "replace")
            return f"the program did not finish within {self.timeout} s", out
        output = proc.stdout.decode("utf-8", "replace")
        if proc.returncode != 0:
            return output.strip() or f"the program exited with code {proc.returncode}", output
        return None, output

    def _result(
        self,
        kind: Kind,
        deployment: Deployment,
        outputs: Mapping[str, Any],
        output: str,
        started: float,
        program_error: str | None,
    ) -> RunResult:
        errors = list(deployment.errors)
        # As in the CLI, an error logged by the program fails the run.
        errors += [entry.message for entry in deployment.logs if entry.severity == "error"]
        if program_error is not None and not errors:
            errors.append(program_error)
        return RunResult(
            kind=kind,
            stack=self.stack,
            ok=not errors and program_error is None,
            error="\n".join(errors) if errors else None,
            steps=list(deployment.steps),
            outputs={k: to_display(v) for k, v in outputs.items()},
            logs=list(deployment.logs),
            provider_calls=list(deployment.provider_calls),
            program_output=output,
            provider_output=deployment.provider_output(),
            duration=time.monotonic() - started,
        )

"""The pack processes and the Analyzer calls, in the engine's order and shape."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from pulumi_metal_reset.testing._plugin import PluginProcess, PluginStartError
from pulumi_metal_reset.testing._urns import root_stack_urn, urn_name

from .config import reconcile
from .marshal import (
    level_name,
    level_value,
    options_message,
    plain,
    provider_message,
    to_struct,
    violation,
)
from .records import (
    SEVERITIES,
    AnalyzerOptions,
    PackInfo,
    PolicyInfo,
    PolicyPackError,
    PolicyRemediation,
    PolicyViolation,
    ProviderResource,
    ResourceAnalysis,
    StackResource,
)


class _Pack:
    """One pack process and its Analyzer stub."""

    def __init__(self, path: str, env: dict[str, str], python: str, engine: str) -> None:
        self.path = path
        self.directory = Path(path).resolve()
        project = self.directory / "PulumiPolicy.yaml"
        try:
            self.project: dict[str, Any] = yaml.safe_load(project.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as err:
            raise PolicyPackError(
                f'failed to load Pulumi policy project located at "{path}": {err}'
            ) from None
        runtime = self.project.get("runtime")
        runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
        if runtime_name != "python":
            raise PolicyPackError(f"policy pack {path!r}: only python packs run here")
        self._process = PluginProcess(
            [python, "-u", "-m", "pulumi.policy", engine, str(self.directory)],
            cwd=self.directory,
            env=env,
        )
        try:
            channel = self._process.connect(60, wait_ready=False)
        except PluginStartError:
            raise PolicyPackError(
                f'policy pack "{path}" failed to start:\n{self._process.output()}'
            ) from None
        self.stub = analyzer_pb2_grpc.AnalyzerStub(channel)

    def output(self) -> str:
        return self._process.output()

    def close(self) -> None:
        self._process.close()


class PolicyPacks:
    """Started packs, called as the engine calls them. Use `start`, then `analyze` for each
    resource after Check, `analyze_stack` at the end, and `close` (or a `with` block)."""

    def __init__(self, packs: list[_Pack], infos: list[PackInfo], project: str, stack: str):
        self._packs = packs
        self.packs = infos
        self.project = project
        self.stack = stack

    @classmethod
    def start(
        cls,
        paths: Sequence[str | os.PathLike[str]],
        *,
        project: str,
        stack: str,
        dry_run: bool,
        config: Mapping[str, str] | None = None,
        config_secret_keys: Sequence[str] = (),
        policy_configs: Sequence[Mapping[str, Any] | None] | None = None,
        organization: str = "organization",
        tags: Mapping[str, str] | None = None,
        engine_address: str = "127.0.0.1:0",
        python: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> PolicyPacks:
        """`config` is the decrypted stack config (`"ns:key"` to string); `policy_configs`
        lines up with `paths` like `--policy-pack-config` files (parsed JSON)."""
        if policy_configs is not None and len(policy_configs) != len(paths):
            raise PolicyPackError("give one policy config (or None) per policy pack path")
        child_env = {
            k: v
            for k, v in (
                ("PULUMI_ORGANIZATION", organization),
                ("PULUMI_PROJECT", project),
                ("PULUMI_STACK", stack),
                ("PULUMI_DRY_RUN", "true" if dry_run else "false"),
                ("PULUMI_CONFIG", json.dumps(dict(config), sort_keys=True) if config else ""),
            )
            if v
        }
        child_env.update(os.environ)
        child_env.update(env or {})
        stack_request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack,
            project=project,
            organization=organization,
            dry_run=dry_run,
            config=dict(config or {}),
            config_secret_keys=list(config_secret_keys),
            tags=dict(tags or {}),
        )
        started: list[_Pack] = []
        infos: list[PackInfo] = []
        try:
            for i, path in enumerate(paths):
                pack = _Pack(os.fspath(path), child_env, python or sys.executable, engine_address)
                started.append(pack)
                given = policy_configs[i] if policy_configs is not None else None
                infos.append(_configure(pack, stack_request, given))
        except BaseException:
            for pack in started:
                pack.close()
            raise
        return cls(started, infos, project, stack)

    def analyze(
        self,
        urn: str,
        type_: str,
        inputs: Mapping[str, Any],
        *,
        options: AnalyzerOptions | None = None,
        provider: ProviderResource | None = None,
    ) -> ResourceAnalysis:
        """Remediate with every pack in turn, then Analyze the result with every pack."""
        opts, prov = options_message(options or AnalyzerOptions()), provider_message(provider)
        props = dict(inputs)
        violations: list[PolicyViolation] = []
        remediations: list[PolicyRemediation] = []
        for pack, info in zip(self._packs, self.packs, strict=True):
            request = analyzer_pb2.AnalyzeRequest(
                urn=urn, type=type_, name=urn_name(urn), options=opts, provider=prov,
                properties=to_struct(props, skip_internal=False),
            )  # fmt: skip
            try:
                remediated = pack.stub.Remediate(request)
            except grpc.RpcError as err:
                if err.code() != grpc.StatusCode.UNIMPLEMENTED:
                    raise PolicyPackError(f"failed to run remediation: {err.details()}") from None
                continue
            for r in remediated.remediations:
                if r.diagnostic:
                    violations.append(
                        PolicyViolation(
                            r.policyPackName, info.version, r.policyName, "advisory", urn,
                            r.diagnostic, r.description,
                        )
                    )  # fmt: skip
                else:
                    remediations.append(
                        PolicyRemediation(
                            r.policyPackName, info.version, r.policyName, urn, r.description
                        )
                    )
                    props = plain(r.properties)
        for pack, info in zip(self._packs, self.packs, strict=True):
            request = analyzer_pb2.AnalyzeRequest(
                urn=urn, type=type_, name=urn_name(urn), options=opts, provider=prov,
                properties=to_struct(props, skip_internal=True),
            )  # fmt: skip
            try:
                response = pack.stub.Analyze(request)
            except grpc.RpcError as err:
                raise PolicyPackError(f"failed to run policy: {err.details()}") from None
            violations.extend(violation(d, info, urn) for d in response.diagnostics)
        return ResourceAnalysis(props, tuple(violations), tuple(remediations))

    def analyze_stack(self, resources: Sequence[StackResource]) -> list[PolicyViolation]:
        """AnalyzeStack on the final outputs (the engine skips it when a step failed)."""
        request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    urn=r.urn,
                    type=r.type,
                    name=urn_name(r.urn),
                    properties=to_struct(r.outputs, skip_internal=True),
                    options=options_message(r.options),
                    provider=provider_message(r.provider),
                    parent=r.parent,
                    dependencies=list(r.dependencies),
                    propertyDependencies={
                        k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v))
                        for k, v in r.property_dependencies.items()
                        if v
                    },
                )
                for r in resources
            ]
        )
        known = {r.urn for r in resources}
        stack, project = self.stack, self.project
        root = root_stack_urn(stack, project)
        violations: list[PolicyViolation] = []
        for pack, info in zip(self._packs, self.packs, strict=True):
            try:
                response = pack.stub.AnalyzeStack(request)
            except grpc.RpcError as err:
                if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                    continue
                raise PolicyPackError(f"failed to analyze resources: {err.details()}") from None
            for d in response.diagnostics:
                violations.append(violation(d, info, d.urn if d.urn in known else root))
        return violations

    def output(self) -> str:
        """What the packs wrote after their port lines (stdout and stderr)."""
        return "".join(pack.output() for pack in self._packs)

    def close(self) -> None:
        for pack in self._packs:
            pack.close()

    def __enter__(self) -> PolicyPacks:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _configure(
    pack: _Pack, stack_request: analyzer_pb2.AnalyzerStackConfigureRequest, given: Any
) -> PackInfo:
    try:
        pack.stub.ConfigureStack(stack_request)
    except grpc.RpcError as err:
        if err.code() != grpc.StatusCode.UNIMPLEMENTED:
            raise PolicyPackError(f"policy pack configuration failed: {err.details()}") from None
    try:
        response = pack.stub.GetAnalyzerInfo(empty_pb2.Empty())
    except grpc.RpcError as err:
        raise PolicyPackError(f'policy pack "{pack.path}": {err.details()}') from None
    policies = tuple(
        sorted(
            (
                PolicyInfo(
                    name=p.name,
                    description=p.description,
                    enforcement_level=level_name(p.enforcementLevel),
                    kind={1: "resource", 2: "stack"}.get(p.policy_type, "unknown"),
                    severity=SEVERITIES[p.severity] if p.severity < len(SEVERITIES) else "",
                    config_schema=plain(p.configSchema.properties),
                    required=tuple(p.configSchema.required),
                )
                for p in response.policies
            ),
            key=lambda p: p.name,
        )
    )
    version = str(pack.project.get("version") or response.version)
    info = PackInfo(response.name, version, pack.path, policies, response.supportsConfig)
    if not response.supportsConfig:
        if given:
            raise PolicyPackError(
                f'policy pack "{info.name}" at "{pack.path}" does not support config'
            )
        return info
    initial = {
        k: (level_name(v.enforcementLevel), plain(v.properties))
        for k, v in response.initialConfig.items()
    }
    reconciled = reconcile(info, initial, given or {})
    if not reconciled:  # the engine's Configure returns early on an empty config
        return info
    try:
        pack.stub.Configure(
            analyzer_pb2.ConfigureAnalyzerRequest(
                policyConfig={
                    name: analyzer_pb2.PolicyConfig(
                        enforcementLevel=level_value(level),
                        properties=to_struct(props, skip_internal=False),
                    )
                    for name, (level, props) in reconciled.items()
                }
            )
        )
    except grpc.RpcError as err:
        raise PolicyPackError(f'configuring policy pack "{info.name}": {err.details()}') from None
    # The engine's analyzer client updates its cached info with the configured levels.
    policies = tuple(replace(p, enforcement_level=reconciled[p.name][0]) for p in info.policies)
    return replace(info, policies=policies)

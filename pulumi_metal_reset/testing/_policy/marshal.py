"""Records to and from the Analyzer protocol's messages (wire-form property maps)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from pulumi_metal_reset.testing._urns import urn_name

from .records import (
    SEVERITIES,
    AnalyzerOptions,
    PackInfo,
    PolicyViolation,
    ProviderResource,
)


def to_struct(props: Mapping[str, Any], *, skip_internal: bool) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update({k: v for k, v in props.items() if not (skip_internal and k.startswith("__"))})
    return struct


def plain(struct: struct_pb2.Struct) -> dict[str, Any]:
    return cast(dict[str, Any], json_format.MessageToDict(struct))


def options_message(opts: AnalyzerOptions) -> analyzer_pb2.AnalyzerResourceOptions:
    create, update, delete, read = opts.custom_timeouts
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=opts.protect,
        ignoreChanges=list(opts.ignore_changes),
        deleteBeforeReplace=bool(opts.delete_before_replace),
        deleteBeforeReplaceDefined=opts.delete_before_replace is not None,
        additionalSecretOutputs=list(opts.additional_secret_outputs),
        aliases=list(opts.aliases),
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=create, update=update, delete=delete, read=read
        ),
        parent=opts.parent,
    )


def provider_message(
    provider: ProviderResource | None,
) -> analyzer_pb2.AnalyzerProviderResource | None:
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        urn=provider.urn,
        type=provider.type,
        name=urn_name(provider.urn),
        properties=to_struct(provider.inputs, skip_internal=True),
    )


def level_name(value: int) -> str:
    """The protocol's enum (ADVISORY=0, MANDATORY=1, DISABLED=2, REMEDIATE=3) as a config word."""
    return str(analyzer_pb2.EnforcementLevel.Name(cast(Any, value))).lower()


def level_value(name: str) -> Any:
    return analyzer_pb2.EnforcementLevel.Value(name.upper())


def violation(d: analyzer_pb2.AnalyzeDiagnostic, info: PackInfo, urn: str) -> PolicyViolation:
    level = level_name(d.enforcementLevel)
    severity = SEVERITIES[d.severity] if d.severity < len(SEVERITIES) else ""
    if not severity:
        severity = next((p.severity for p in info.policies if p.name == d.policyName), "")
    return PolicyViolation(
        policy_pack=d.policyPackName,
        policy_pack_version=info.version,
        policy_name=d.policyName,
        enforcement_level="mandatory" if level == "remediate" else level,
        urn=urn,
        message=d.message,
        description=d.description,
        severity=severity,
    )

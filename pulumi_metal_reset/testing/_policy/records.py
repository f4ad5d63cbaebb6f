"""The records the policy harness returns, and the run-level verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("advisory", "mandatory", "remediate", "disabled")
SEVERITIES = ("", "low", "medium", "high", "critical")


class PolicyPackError(RuntimeError):
    """A pack did not start, its config is invalid, or a call failed (as the engine fails)."""


@dataclass(frozen=True)
class PolicyViolation:
    """One diagnostic, as the engine's PolicyViolationEvent carries it."""

    policy_pack: str
    policy_pack_version: str
    policy_name: str
    enforcement_level: str
    urn: str
    message: str
    description: str = ""
    severity: str = ""

    @property
    def mandatory(self) -> bool:
        return self.enforcement_level == "mandatory"


@dataclass(frozen=True)
class PolicyRemediation:
    policy_pack: str
    policy_pack_version: str
    policy_name: str
    urn: str
    description: str = ""


@dataclass(frozen=True)
class ResourceAnalysis:
    """Remediate + Analyze of one resource. `inputs` are the remediated inputs the engine goes
    on with; `invalid(dry_run)` says whether the engine refuses to operate on the resource."""

    inputs: dict[str, Any]
    violations: tuple[PolicyViolation, ...]
    remediations: tuple[PolicyRemediation, ...] = ()

    def invalid(self, dry_run: bool) -> bool:
        return not dry_run and run_failed(self.violations)


@dataclass(frozen=True)
class AnalyzerOptions:
    """The resource options an AnalyzeRequest carries."""

    protect: bool = False
    ignore_changes: Sequence[str] = ()
    delete_before_replace: bool | None = None
    additional_secret_outputs: Sequence[str] = ()
    aliases: Sequence[str] = ()
    custom_timeouts: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    parent: str = ""


@dataclass(frozen=True)
class ProviderResource:
    urn: str
    type: str
    inputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StackResource:
    """A resource for AnalyzeStack: its outputs, as recorded at the end of the run."""

    urn: str
    type: str
    outputs: Mapping[str, Any]
    options: AnalyzerOptions = AnalyzerOptions()
    provider: ProviderResource | None = None
    parent: str = ""
    dependencies: Sequence[str] = ()
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement_level: str
    kind: str  # "resource" or "stack"
    severity: str
    config_schema: Mapping[str, Any]
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackInfo:
    """A started pack: `name@vversion`, and `path` as given (the CLI shows it as `local:`)."""

    name: str
    version: str
    path: str
    policies: tuple[PolicyInfo, ...]
    supports_config: bool = True


def run_failed(violations: Sequence[PolicyViolation]) -> bool:
    """A mandatory violation fails the run (preview and up); advisory ones only warn."""
    return any(v.mandatory for v in violations)

"""What a run records: steps, diagnostics and log entries (plain data, no behaviour)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ._state import ResourceState

#: The operations a step reports, named as the CLI names them.
Op = Literal["create", "update", "replace", "same", "delete", "import", "refresh"]
#: The CLI command a run stands for.
Kind = Literal["preview", "up", "destroy", "refresh", "import"]


@dataclass
class Step:
    """One planned (preview) or executed step for one resource, as the CLI lists it."""

    urn: str
    type: str
    name: str
    op: Op
    #: Names of checked inputs that changed (old inputs against new inputs), ``__`` keys hidden.
    diffs: list[str] = field(default_factory=list)
    #: The CLI's ``[diff: ...]`` entries: ``+key`` added, ``-key`` removed, ``~key`` changed.
    diff_marks: list[str] = field(default_factory=list)
    #: The resource's (planned) outputs; secrets as ``Secret``, unknowns as ``UNKNOWN``.
    outputs: dict[str, Any] = field(default_factory=dict)
    #: The error reported for this resource, as the CLI words it, when there was one.
    error: str | None = None
    #: True when the step itself failed; False when it ran and an error was only reported
    #: about it (a preview's refused replace of a protected resource still counts as a replace).
    failed: bool = field(default=False, repr=False)
    #: Keys the diff reported as changed (the engine's own input diff on DIFF_UNKNOWN; the
    #: dynamic-provider server reports none); they narrow ``[diff: ...]`` and ``--diff``.
    reported_keys: list[str] = field(default_factory=list, repr=False)
    #: The resource before and after the step (wire form; reprs mask secrets).
    old: ResourceState | None = field(default=None, repr=False)
    new: ResourceState | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Dependent:
    """A resource deleted before one it depends on is replaced, and the keys that replace it."""

    state: ResourceState
    keys: list[str]


@dataclass(frozen=True)
class Diagnostic:
    """One message of the CLI's Diagnostics section: ``urn`` "" for messages tied to no resource."""

    severity: str
    message: str
    urn: str = ""
    #: Logged by the program (the engine's ``Log``), not raised by the engine.
    logged: bool = False

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


@dataclass(frozen=True)
class LogEntry:
    """A message the program logged through the Engine service (``pulumi.log``)."""

    severity: str
    message: str
    urn: str = ""

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


@dataclass
class Goal:
    """A resource registration as the engine's ``resource.Goal`` keeps it (the options the test
    engine honours; aliases, custom timeouts and hooks are not modelled)."""

    type: str
    name: str
    custom: bool
    #: The inputs as the program sent them (wire form, secrets wrapped).
    properties: dict[str, Any]
    parent: str = ""
    #: None when the program did not say (then the parent's value is inherited).
    protect: bool | None = None
    retain_on_delete: bool | None = None
    #: None when the program did not set it: the provider's answer stands.
    delete_before_replace: bool | None = None
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    import_id: str = ""
    #: The alias URNs the SDK sent (it computes them, as this monitor supports no alias specs).
    alias_urns: list[str] = field(default_factory=list)

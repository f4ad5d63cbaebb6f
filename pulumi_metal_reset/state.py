"""The resource's state, typed once: its checked inputs and its outputs, with their wire form.

`check` returns `CheckedInputs` (the engine stores them as the resource's inputs); `create` and
`update` return `Outputs`, and `diff` and `update` read the old ones back. A field's wire name is
its Python name and its wire value is what release 0.1.0 wrote (RFC 3339 slots, ISO 8601
periods), so existing stacks load unchanged; `tests/provider/test_state_compat.py` proves it on a
state written by 0.1.0. The period and the slot, the two values every decision compares, are
parsed once here into whole seconds.

Frozen dataclasses rather than pydantic models: they build nothing at import, and the provider
process imports this module before its first call. Pure: no Pulumi, no HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final, NamedTuple, Protocol, TypeVar

from pulumi_metal_reset import schedule

__all__ = [
    "DELIVERY_INPUT_NAMES",
    "INPUT_NAMES",
    "OUTPUT_NAMES",
    "CheckedInputs",
    "Outputs",
    "Recorded",
]

#: The write-only delivery inputs, validated by `delivery.models` (only when one is given).
DELIVERY_INPUT_NAMES: Final = ("deliver_to", "store_password")
#: The inputs a program gives; `check` adds `rotation_slot` and `credential_id` to them.
INPUT_NAMES: Final = (
    "email",
    "rotate_every",
    "rotation_triggers",
    "rotate_on_create",
    "auth_token",
    "api_url",
    *DELIVERY_INPUT_NAMES,
)


class _Codec(NamedTuple):
    to_wire: Callable[[Any], Any]
    from_wire: Callable[[Any], Any]


def _period(value: Any) -> int | None:
    try:
        return schedule.parse_duration(value)
    except ValueError:
        return None


def _slot(value: Any) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return schedule.parse_timestamp(value)
    except ValueError:
        return None


def _count(value: Any) -> int:
    # Numbers cross the wire as doubles (protobuf Struct): 2.0 is read back as 2.
    return int(value)


def _triggers(value: Any) -> dict[str, str]:
    return dict(value)


def _target(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) else None


def _history(value: Any) -> list[dict[str, Any]]:
    # Entries a hand-edited state mangled are dropped rather than failing every run.
    if not isinstance(value, (list, tuple)):
        return []
    return [dict(entry) for entry in value if isinstance(entry, Mapping)]


# Hand-lenient on purpose: a slot or period that does not parse (a hand-edited state) reads as
# absent, which starts a new schedule instead of failing every run.
_PERIOD: Final = {"codec": _Codec(schedule.format_duration, _period)}
_SLOT: Final = {"codec": _Codec(schedule.format_timestamp, _slot)}
_COUNT: Final = {"codec": _Codec(int, _count)}
_TRIGGERS: Final = {"codec": _Codec(dict, _triggers)}
_TARGET: Final = {"codec": _Codec(dict, _target)}
_HISTORY: Final = {"codec": _Codec(_history, _history)}


class Recorded(Protocol):
    """What the rotation decision compares: old inputs, old outputs and new inputs all hold it."""

    @property
    def email(self) -> str: ...
    @property
    def rotation_triggers(self) -> Mapping[str, str]: ...
    @property
    def rotate_every(self) -> int | None: ...
    @property
    def rotation_slot(self) -> int | None: ...
    @property
    def credential_id(self) -> str | None: ...
    @property
    def deliver_to(self) -> Mapping[str, Any] | None: ...
    @property
    def store_password(self) -> bool: ...


@dataclass(frozen=True)
class CheckedInputs:
    """What `check` returns when every value is known; what `create` and `update` receive."""

    email: str
    """Normalised by email-validator (domain lower-cased, in its Unicode form)."""
    rotate_every: int | None = field(default=None, metadata=_PERIOD)
    """The period in seconds; ISO 8601 on the wire (`P30D`)."""
    rotation_triggers: Mapping[str, str] = field(default_factory=dict, metadata=_TRIGGERS)
    rotate_on_create: bool = False
    auth_token: str | None = field(default=None, repr=False)
    """Secret; the engine strips the secret mark before the provider sees it."""
    api_url: str | None = None
    rotation_slot: int | None = field(default=None, metadata=_SLOT)
    """Start of the current period, epoch seconds; derived by `check` from the clock."""
    credential_id: str | None = None
    """Pseudonymous id of the API token (see `credentials.py`); None when none is set."""
    deliver_to: Mapping[str, Any] | None = field(default=None, metadata=_TARGET)
    """Where a rotated password goes: a checked `deliver.command` / `deliver.file` map."""
    store_password: bool = True
    """False: `new_password` stays None once the sink holds the password."""

    @classmethod
    def from_wire(cls, props: Mapping[str, Any]) -> CheckedInputs:
        return _from_wire(cls, props)

    def to_wire(self) -> dict[str, Any]:
        return _to_wire(self)


@dataclass(frozen=True)
class Outputs:
    """Everything `create` and `update` record; `diff` and `update` get it back as `olds`."""

    email: str
    requested_at: str | None = None
    """When the token was last requested (RFC 3339, UTC)."""
    rotation_count: int = field(default=0, metadata=_COUNT)
    rotated_at: str | None = None
    rotation_reason: str | None = None
    new_password: str | None = field(default=None, repr=False)
    """Secret (the resource lists it in additional_secret_outputs)."""
    rotate_every: int | None = field(default=None, metadata=_PERIOD)
    rotation_triggers: Mapping[str, str] = field(default_factory=dict, metadata=_TRIGGERS)
    rotation_slot: int | None = field(default=None, metadata=_SLOT)
    credential_id: str | None = None
    schedule_note: str | None = None
    """One sentence, set when a slot recorded far in the future was re-anchored."""
    deliver_to: Mapping[str, Any] | None = field(default=None, metadata=_TARGET)
    """The checked input, echoed: `diff` compares it and a redelivery reads it."""
    store_password: bool = True
    """The checked input, echoed."""
    password_fingerprint: str | None = None
    """Keyed fingerprint of the current password (`delivery/ledger.py`); never the password."""
    delivered_at: str | None = None
    """When the current password reached the sink (RFC 3339, UTC), or None."""
    delivery: str | None = None
    """Where the current password went, described with nothing secret, or None."""
    delivery_pending: str | None = None
    """Set when a delivery failed after the DELETE: the password waits in `new_password`."""
    rotation_history: list[Mapping[str, Any]] = field(default_factory=list, metadata=_HISTORY)
    """The last 20 rotations, oldest first: at, reason, slot, fingerprint, delivered_to."""

    @property
    def next_rotation_at(self) -> int | None:
        if self.rotation_slot is None or self.rotate_every is None:
            return None
        return schedule.next_rotation(self.rotation_slot, self.rotate_every)

    def echoing(self, new: CheckedInputs) -> Outputs:
        """These outputs with the checked inputs that every create and update echo: what `diff`
        compares comes back as the old outputs, since the server drops the old inputs."""
        return replace(
            self,
            rotate_every=new.rotate_every,
            rotation_triggers=new.rotation_triggers,
            rotation_slot=new.rotation_slot,
            credential_id=new.credential_id,
            deliver_to=new.deliver_to,
            store_password=new.store_password,
        )

    @classmethod
    def from_wire(cls, props: Mapping[str, Any]) -> Outputs:
        return _from_wire(cls, props)

    def to_wire(self) -> dict[str, Any]:
        """The outputs as the engine stores them, with the derived `next_rotation_at`."""
        wire = _to_wire(self)
        following = self.next_rotation_at
        wire["next_rotation_at"] = (
            None if following is None else schedule.format_timestamp(following)
        )
        return wire


#: Every output's wire name, in the order `Outputs.to_wire` writes them.
OUTPUT_NAMES: Final = (*(f.name for f in fields(Outputs)), "next_rotation_at")

_State = TypeVar("_State", CheckedInputs, Outputs)


#: Each field's name and codec, in order, per class: read once here, used by every call.
_CODECS: Final[dict[type, tuple[tuple[str, _Codec | None], ...]]] = {
    cls: tuple((spec.name, spec.metadata.get("codec")) for spec in fields(cls))
    for cls in (CheckedInputs, Outputs)
}


def _to_wire(state: CheckedInputs | Outputs) -> dict[str, Any]:
    wire: dict[str, Any] = {}
    for name, codec in _CODECS[type(state)]:
        value = getattr(state, name)
        wire[name] = codec.to_wire(value) if codec is not None and value is not None else value
    return wire


def _from_wire(cls: type[_State], props: Mapping[str, Any]) -> _State:
    """Read a wire map; absent and null values take the field's default, unknown keys are
    ignored (`__provider`, and outputs a later release may add)."""
    values: dict[str, Any] = {}
    for name, codec in _CODECS[cls]:
        value = props.get(name)
        if value is None:
            continue
        values[name] = codec.from_wire(value) if codec is not None else value
    return cls(**values)

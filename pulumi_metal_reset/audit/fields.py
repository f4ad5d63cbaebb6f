"""The one place the audit names PasswordResetToken state fields, read from the typed state.

`pulumi_metal_reset.state` defines what the provider records: `Outputs` (what `create` and
`update` return, plus the derived `next_rotation_at`) and `CheckedInputs` (what `check` returns,
stored as the resource's inputs). Each field the audit judges is looked up there once, at import:
an output is read from the outputs, falling back to the checked input of that name (state written
before the output existed, or a resource whose first update has not run); a name that is only a
checked input is read from the inputs. A field renamed in `state.py` fails this import, never an
audit run. Values stay raw (`Value`, secret-ness kept): the audit judges and reports malformed
values itself instead of reading them as absent, as the provider's lenient codecs do.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Final

from pulumi_metal_reset.audit.export import MISSING, ExportedResource, Value, decode
from pulumi_metal_reset.state import OUTPUT_NAMES, CheckedInputs

__all__ = ["AUDITED", "TokenState", "token_state"]

_CHECKED: Final = frozenset(f.name for f in dataclass_fields(CheckedInputs))


@dataclass(frozen=True)
class TokenState:
    resource: ExportedResource
    source: str
    rotate_every: Value
    rotation_triggers: Value
    next_rotation_at: Value
    rotation_slot: Value
    requested_at: Value
    rotation_count: Value
    rotated_at: Value
    store_password: Value
    credential_id: Value
    new_password: Value
    delivery_pending: Value
    auth_token: Value


#: The state fields the audit judges (every TokenState field but the resource and its source).
AUDITED: Final = tuple(f.name for f in dataclass_fields(TokenState))[2:]


def _sides(name: str) -> tuple[str, ...]:
    """Where the provider records `name`: ("outputs", "inputs"), ("outputs",) or ("inputs",)."""
    sides: tuple[str, ...] = ("outputs",) if name in OUTPUT_NAMES else ()
    if name in _CHECKED:
        sides += ("inputs",)
    if not sides:
        raise ImportError(f"the audit reads {name!r}, which pulumi_metal_reset.state lacks")
    return sides


_WHERE: Final = {name: _sides(name) for name in AUDITED}


def _read(resource: ExportedResource, source: str, name: str) -> Value:
    for side in _WHERE[name]:
        props = resource.outputs if side == "outputs" else resource.inputs
        if name in props:
            return decode(props[name], f"{source}: {resource.urn} property {name}")
    return MISSING


def token_state(resource: ExportedResource, source: str) -> TokenState:
    return TokenState(resource, source, **{name: _read(resource, source, name) for name in AUDITED})

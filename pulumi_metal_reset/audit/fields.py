"""The one place the audit names PasswordResetToken state fields.

An adapter until the typed state definitions (`pulumi_metal_reset.state`) land on main: then
`token_state` reads through them and nothing else in the audit changes. Each field is the
output of that name, else the checked input of that name (state written before the output
existed), with its secret-ness kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from pulumi_metal_reset.audit.export import ExportedResource, Value

__all__ = ["TokenState", "token_state"]


@dataclass(frozen=True)
class TokenState:
    resource: ExportedResource
    source: str
    rotate_every: Value
    rotation_triggers: Value
    next_rotation_at: Value
    requested_at: Value
    rotation_count: Value
    rotated_at: Value
    store_password: Value
    credential_id: Value


def token_state(resource: ExportedResource, source: str) -> TokenState:
    def read(name: str) -> Value:
        return resource.field(name, source)

    return TokenState(
        resource=resource,
        source=source,
        rotate_every=read("rotate_every"),
        rotation_triggers=read("rotation_triggers"),
        next_rotation_at=read("next_rotation_at"),
        requested_at=read("requested_at"),
        rotation_count=read("rotation_count"),
        rotated_at=read("rotated_at"),
        store_password=read("store_password"),
        credential_id=read("credential_id"),
    )

"""The public face: `PasswordResetToken`, a Pulumi resource backed by the dynamic provider.

Its type token, `pulumi-python:dynamic/metal:PasswordResetToken`, is fixed: state refers to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.dynamic

from pulumi_metal_reset.provider import PasswordResetTokenProvider
from pulumi_metal_reset.state import OUTPUT_NAMES

__all__ = ["PasswordResetToken"]


class PasswordResetToken(pulumi.dynamic.Resource, module="metal", name="PasswordResetToken"):
    """Mails a password-reset token to `email` on create; rotates the API user's password
    when `rotation_triggers` change or `rotate_every` falls due.

    The rotation resets the password of the user who owns the API token (the API's "current
    user"), not of `email`; a project API key has no user, so the API refuses it.
    """

    email: pulumi.Output[str]
    """The normalised address the token was mailed to. Changing it mails a new token, in place."""
    requested_at: pulumi.Output[str]
    """When the token was requested (RFC 3339, UTC)."""
    rotation_count: pulumi.Output[int]
    """How many times this resource has rotated the password.

    An int in programs: the wire carries every number as a double, and the SDK turns it back
    into the type annotated here."""
    rotated_at: pulumi.Output[str | None]
    """When the password was last rotated, or None."""
    rotation_reason: pulumi.Output[str | None]
    """Why the last rotation happened: changed triggers, a due schedule or rotate_on_create."""
    new_password: pulumi.Output[str | None]
    """The password set by the last rotation. Always a Pulumi secret; None before any (without
    `rotate_on_create`, until the first trigger change or due slot), and None with
    `store_password=False` once `deliver_to` holds it (kept only while a delivery is pending).
    Another resource on the same API token makes it stale when that one rotates (see
    `credential_id`)."""
    next_rotation_at: pulumi.Output[str | None]
    """When the schedule next falls due, or None without `rotate_every`."""
    rotation_slot: pulumi.Output[str | None]
    """Start of the current schedule period; `pulumi preview` shows it change when due."""
    rotate_every: pulumi.Output[str | None]
    """The schedule, normalised to ISO 8601 (`"30d"` is shown as `"P30D"`)."""
    rotation_triggers: pulumi.Output[Mapping[str, str]]
    """Any change to these values rotates the password."""
    credential_id: pulumi.Output[str | None]
    """Pseudonymous id of the API token used ("cred-" and 16 hex digits); equal ids mean one
    API user, whose password each resource's rotation resets. None when no token is set."""
    schedule_note: pulumi.Output[str | None]
    """Set when a slot recorded far in the future (a wrong clock) was re-anchored: one sentence."""
    deliver_to: pulumi.Output[Mapping[str, Any] | None]
    """Where each rotated password goes, as checked (`deliver.command` / `deliver.file`)."""
    store_password: pulumi.Output[bool]
    """False: `new_password` stays None once `deliver_to` holds the password."""
    password_fingerprint: pulumi.Output[str | None]
    """A keyed hash of the current password ("fp-" and 16 hex digits), to check which password a
    store holds (docs/write-only-delivery.md has the recipe). Reveals nothing of it."""
    delivered_at: pulumi.Output[str | None]
    """When the current password reached `deliver_to` (RFC 3339, UTC), or None."""
    delivery: pulumi.Output[str | None]
    """Where the current password went, with nothing secret (`command: pass insert ...`)."""
    delivery_pending: pulumi.Output[str | None]
    """Set when delivering failed after the rotation: the password then waits in `new_password`
    (a secret) and the next `pulumi up` delivers it without rotating."""
    rotation_history: pulumi.Output[list[Mapping[str, Any]]]
    """The last 20 rotations, oldest first: `at`, `reason`, `slot`, `fingerprint` and
    `delivered_to` each; nothing secret."""

    def __init__(
        self,
        resource_name: str,
        email: pulumi.Input[str],
        *,
        rotate_every: pulumi.Input[str | int] | None = None,
        rotation_triggers: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        rotate_on_create: pulumi.Input[bool] | None = None,
        auth_token: pulumi.Input[str] | None = None,
        api_url: pulumi.Input[str] | None = None,
        deliver_to: pulumi.Input[Mapping[str, Any]] | None = None,
        store_password: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`auth_token` and `api_url` override the stack config and the environment.

        `rotate_every` takes "90m", "12h", "30d", "2w", fixed-length ISO 8601 ("P30D") or
        seconds. `rotate_on_create` also rotates right after the token is requested.
        `deliver_to` (`deliver.command(...)` or `deliver.file(...)`) hands each new password to
        a secret store; with `store_password=False` it is then kept nowhere in the stack.
        """
        props: dict[str, Any] = {
            "email": email,
            "rotate_every": rotate_every,
            "rotation_triggers": rotation_triggers,
            "rotate_on_create": rotate_on_create,
            "auth_token": None if auth_token is None else pulumi.Output.secret(auth_token),
            "api_url": api_url,
            "deliver_to": deliver_to,
            "store_password": store_password,
        }
        # Every output not given as an input is registered as None, so it exists on the resource.
        props.update({name: None for name in OUTPUT_NAMES if name not in props})
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["new_password"])
        super().__init__(
            PasswordResetTokenProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secret_opts),
        )

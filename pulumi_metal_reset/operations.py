"""The two API calls as records: what each one does and what an ambiguous outcome means.

The client sends them, errors carry them, and the provider quotes them, so no message is ever
re-derived from an HTTP method or a class name. Pure data: no HTTP, no Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CREATE_TOKEN", "RESET_PASSWORD", "Operation"]


@dataclass(frozen=True)
class Operation:
    """One API call, named as in `equinix_metal.PasswordResetTokensApi`."""

    name: str
    """The SDK's method name, e.g. `reset_password`."""
    method: str
    """The HTTP method: `POST` or `DELETE`."""
    doing: str
    """A gerund phrase for messages: "resetting the password"."""
    if_ambiguous: str
    """What a request that may have taken effect means, and what to do about it."""
    if_rejected: str
    """What to check when the API refuses the request as invalid (HTTP 422)."""
    if_refused: str
    """What certainly did not happen when the API refused the request: a failure says so."""


CREATE_TOKEN = Operation(
    name="create_password_reset_token",
    method="POST",
    doing="creating the password-reset token",
    if_ambiguous=(
        "so a reset email may already have been sent; check the inbox before running it again"
    ),
    if_rejected="check the email address",
    if_refused="so no reset email was sent",
)

RESET_PASSWORD = Operation(
    name="reset_password",
    method="DELETE",
    doing="resetting the password",
    if_ambiguous=(
        "so the password may already have been reset; running `pulumi up` again rotates it to a "
        "known password"
    ),
    if_rejected="check the account",
    if_refused="so the API password did not change",
)

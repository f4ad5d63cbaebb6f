"""Pydantic shapes of the API's JSON bodies (spec: tests/reference/equinix-metal-openapi).

No HTTP here: the client parses bodies with the two `parse_*` functions, which keep pydantic's
errors on this side (a body that does not parse is simply not usable), and the emulator's tests
check its answers against the models.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

__all__ = ["ApiErrorBody", "NewPassword", "parse_error_messages", "parse_new_password"]


class NewPassword(BaseModel):
    """`DELETE /reset-password` answer. A SecretStr, so repr and str never show the password."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    new_password: SecretStr


class ApiErrorBody(BaseModel):
    """The Error schema: either `error` or `errors` may be set, on any 4xx or 5xx."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    error: str | None = None
    errors: list[str] | None = None

    def messages(self) -> tuple[str, ...]:
        found = [m for m in (self.errors or []) if m]
        if self.error:
            found.insert(0, self.error)
        return tuple(found)


def parse_new_password(body: bytes) -> NewPassword | None:
    """The new password in a reset answer, or None when the body holds no non-empty one."""
    try:
        new = NewPassword.model_validate_json(body)
    except ValidationError:
        return None
    return new if new.new_password.get_secret_value() else None


def parse_error_messages(body: bytes) -> tuple[str, ...]:
    """The messages of an Error body, raw (callers scrub them); () when it is not one."""
    try:
        return ApiErrorBody.model_validate_json(body).messages()
    except ValidationError:
        return ()

"""Pydantic shapes of the API's JSON bodies (spec: tests/reference/equinix-metal-openapi).

No HTTP here: the client parses bodies with these models, the emulator's tests check against them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr

__all__ = ["ApiErrorBody", "NewPassword"]


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

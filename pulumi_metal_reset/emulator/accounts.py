"""Users, their API tokens and their current passwords: the only state the endpoints change.

Passwords leave this module only through `Emulator.password_of`, in process: never over HTTP,
never in the journal or logs, never in a repr.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping

from pulumi_metal_reset.emulator.journal import token_id

__all__ = ["DEV_TOKEN", "DEV_USER", "Accounts", "default_user_for", "parse_token_spec"]

DEV_TOKEN = "metal-emulator-dev-token"  # noqa: S105 - a documented, public development token
DEV_USER = "dev"


def default_user_for(token: str) -> str:
    """`user-<token_id>`: named after the token without spelling it out in the journal or logs."""
    return "user-" + token_id(token)


def parse_token_spec(spec: str) -> tuple[str, str]:
    """`TOKEN=USER`, or `TOKEN` alone for a user named after it (see `default_user_for`)."""
    token, sep, user = spec.partition("=")
    if not token:
        raise ValueError("a token must not be empty")
    if sep and not user:
        raise ValueError("a user name after '=' must not be empty")
    return token, (user if sep else default_user_for(token))


def new_password() -> str:
    """32 URL-safe characters (192 random bits): well over the 20 the tests ask for."""
    return secrets.token_urlsafe(24)


class Accounts:
    """Token to user, user to current password. Several tokens may share one user."""

    def __init__(self, tokens: Mapping[str, str]) -> None:
        if not tokens:
            raise ValueError("at least one token is needed")
        for token, user in tokens.items():
            if not token or not user:
                raise ValueError("tokens and user names must not be empty")
        self._tokens = dict(tokens)
        self._passwords: dict[str, str | None] = dict.fromkeys(self._tokens.values())
        self._lock = threading.Lock()

    @property
    def users(self) -> tuple[str, ...]:
        return tuple(sorted(self._passwords))

    def user_for(self, token: str | None) -> str | None:
        return None if token is None else self._tokens.get(token)

    def token_for(self, user: str) -> str:
        """The first token configured for `user`; KeyError for an unknown user."""
        for token, owner in self._tokens.items():
            if owner == user:
                return token
        raise KeyError(user)

    def password_of(self, user: str) -> str | None:
        """The current password, None before the first rotation; KeyError for an unknown user."""
        with self._lock:
            if user not in self._passwords:
                raise KeyError(user)
            return self._passwords[user]

    def rotate(self, user: str) -> str:
        password = new_password()
        with self._lock:
            self._passwords[user] = password
        return password

    def redact(self, text: str) -> str:
        """`text` with every token and current password replaced, for the journal and logs.

        Clients that misplace a token (in the path, in the query) must not leak it through us.
        """
        with self._lock:
            known = [*self._tokens, *(p for p in self._passwords.values() if p)]
        for secret in known:
            if secret in text:
                text = text.replace(secret, "<redacted>")
        return text

    def __repr__(self) -> str:
        return f"Accounts(users={list(self.users)!r})"

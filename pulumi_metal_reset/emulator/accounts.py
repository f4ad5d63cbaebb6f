"""Users, their API tokens and their current passwords: the only state the endpoints change.

Passwords leave this module only through `Emulator.password_of`, in process: never over HTTP,
never in the journal or logs, never in a repr.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Mapping

from pulumi_metal_reset.emulator.journal import token_id

__all__ = [
    "DEV_TOKEN",
    "DEV_USER",
    "REDACTED",
    "Accounts",
    "default_user_for",
    "new_password",
    "parse_token_spec",
]

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


PASSWORD_LENGTH = 32
REDACTED = "<redacted>"
# Where an issued password could hide: a run of URL-safe characters at least as long as one.
_URLSAFE_RUN = re.compile(rf"[A-Za-z0-9_-]{{{PASSWORD_LENGTH},}}")


def new_password() -> str:
    """32 URL-safe characters (192 random bits): well over the 20 the tests ask for."""
    return secrets.token_urlsafe(PASSWORD_LENGTH * 3 // 4)


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
        self._issued: set[str] = set()  # every password handed out, for `redact`
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
            self._issued.add(password)
        return password

    def redact(self, text: str) -> str:
        """`text` with every token and every password ever issued replaced, for journal and logs.

        Clients that misplace a secret (in the path, in the query) must not leak it through us.
        Passwords are found by set lookups over 32-character windows, so the cost stays linear
        in the text however many rotations there were.
        """
        for token in self._tokens:
            if token in text:
                text = text.replace(token, REDACTED)
        with self._lock:
            return _URLSAFE_RUN.sub(lambda run: self._scrub(run.group()), text)

    def _scrub(self, run: str) -> str:
        for start in range(len(run) - PASSWORD_LENGTH + 1):
            if run[start : start + PASSWORD_LENGTH] in self._issued:
                rest = run[start + PASSWORD_LENGTH :]
                return run[:start] + REDACTED + self._scrub(rest)
        return run

    def __repr__(self) -> str:
        return f"Accounts(users={list(self.users)!r})"

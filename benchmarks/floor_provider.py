"""The memory floor of the libraries issue 12 keeps: the bare provider, importing them.

`LibraryFloorProvider` is `BareProvider` plus, at the calls where ours first needs them, the
imports ours cannot do without: pydantic-core and email-validator at the first Check, requests
at the first Create. It uses none of them, so its peak RSS through the server is what the kept
libraries cost before any provider code runs, and the gap between it and 1.2x bare is all that
the goal leaves for the provider's own modules and work (diagnosis (c), `memory_floor`).
`WorkingFloorProvider` goes one step further: it does with those libraries the least work the
issue asks of any provider that keeps them. Every Check validates the address with
email-validator (as pydantic's `EmailStr` does: the first call loads idna's UTS-46 table) and
every Create sends its POST through one pooled `requests.Session`. Its peak RSS is the floor for
a provider that validates addresses with email-validator and speaks HTTP through requests,
before any code of its own. Importable, so dill pickles both by reference, as it does the others.
"""

from __future__ import annotations

import importlib
import threading
import uuid
from typing import Any

from bare_provider import BareProvider
from pulumi.dynamic import CheckResult, CreateResult

__all__ = [
    "FIRST_CHECK_IMPORTS",
    "FIRST_CREATE_IMPORTS",
    "LibraryFloorProvider",
    "WorkingFloorProvider",
]

#: What our provider's first Check and first Create import from the libraries it keeps.
FIRST_CHECK_IMPORTS = ("pydantic_core", "email_validator")
FIRST_CREATE_IMPORTS = ("requests",)


class LibraryFloorProvider(BareProvider):
    """Bare, plus the kept libraries' imports; their code never runs."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        for name in FIRST_CHECK_IMPORTS:
            importlib.import_module(name)
        return super().check(olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        for name in FIRST_CREATE_IMPORTS:
            importlib.import_module(name)
        return super().create(props)


# Module level, not on the instance, so that the blob stays a bare reference (as ours does).
_session_lock = threading.Lock()
_sessions: list[Any] = []


def _session() -> Any:
    """One pooled `requests.Session` for the process, shared by the server's worker threads."""
    with _session_lock:
        if not _sessions:
            import requests

            _sessions.append(requests.Session())
        return _sessions[0]


class WorkingFloorProvider(BareProvider):
    """Bare, plus the least the kept libraries must do: check addresses, POST through requests."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        importlib.import_module("pydantic_core")
        from email_validator import validate_email

        validate_email(str(news["email"]), check_deliverability=False)
        return CheckResult(news, [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        response = _session().post(
            f"http://{self._host}:{self._port}{self._path}",
            params={"email": str(props["email"])},
            headers={"X-Auth-Token": self._token},
            timeout=10,
        )
        if response.status_code != 201:
            raise RuntimeError(f"POST /reset-password answered HTTP {response.status_code}")
        return CreateResult(uuid.uuid4().hex, {"email": props["email"]})

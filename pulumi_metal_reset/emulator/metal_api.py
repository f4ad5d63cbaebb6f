"""Serving the Metal API: `POST` and `DELETE /metal/v1/reset-password`, faults, journal.

Knows nothing of sockets: it gets a request's method, path, query and token, and returns the
answer (None: close the connection unanswered, for the `drop` fault). Checked in this order:
path (404), method (405), injected fault, token (401), email (422).

Query strings are decoded as HTML forms are, like the Rails app behind the real API: `%2B` is a
plus sign and a raw `+` is a space. `a+b@x.io` sent unencoded therefore arrives as `a b@x.io` and
is refused with 422, which is what a client that forgets to encode `+` deserves to learn early.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, parse_qsl

from pulumi_metal_reset.emulator.accounts import Accounts
from pulumi_metal_reset.emulator.faults import Decision, Faults
from pulumi_metal_reset.emulator.journal import Journal, token_id
from pulumi_metal_reset.emulator.wire import (
    JSON_TYPE,
    Response,
    error_response,
    json_response,
    redacted_path,
)
from pulumi_metal_reset.endpoint import METAL_PATH, RESET_PATH

__all__ = ["API_METHODS", "RESET_ROUTE", "ApiCall", "MetalApi", "email_problem"]

#: Where the emulator serves the password-reset resource: Metal's base path plus RESET_PATH.
RESET_ROUTE = METAL_PATH + RESET_PATH
API_METHODS = ("DELETE", "POST")
# Syntactic only: one @, no spaces, a dot in the domain. Enough to refuse what the API refuses.
EMAIL_RE = re.compile(r"[^@\s]+@(?:[^@\s.]+\.)+[^@\s.]+")
NOT_JSON_BODY = b"<html><body><h1>201 Created</h1></body></html>"

_log = logging.getLogger("pulumi_metal_reset.emulator")


def email_problem(query: str) -> str | None:
    """Why the `email` query parameter is unacceptable, or None when it is fine."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return "the query string is not valid UTF-8"
    emails = [value for key, value in pairs if key == "email"]
    if len(emails) > 1:
        return "email must be given once"
    if not emails or not emails[0]:
        return "email is required"
    if len(emails[0]) > 254 or not EMAIL_RE.fullmatch(emails[0]):
        return "email is not a valid email address"
    return None


@dataclass
class ApiCall:
    """One API request on its way to the journal."""

    started: float
    method: str
    path: str
    query: str
    token: str | None = field(repr=False)
    user: str | None = None


class MetalApi:
    """The two endpoints over the shared accounts, faults and journal; safe across threads."""

    def __init__(self, accounts: Accounts, faults: Faults, journal: Journal) -> None:
        self.accounts = accounts
        self.faults = faults
        self.journal = journal

    def redact_path(self, path: str) -> str:
        return redacted_path(path, self.accounts.redact)

    def serve(
        self, method: str, path: str, query: str, token: str | None, started: float
    ) -> Response | None:
        """The answer to one request; None means: close the connection without answering."""
        call = ApiCall(started, method, path, query, token)
        if path != RESET_ROUTE:
            return self._finish(call, error_response(404, "Not found"))
        if method not in API_METHODS:
            allow = (("Allow", ", ".join(API_METHODS)),)
            return self._finish(call, error_response(405, "Method not allowed", allow))
        decision = self.faults.next_decision()
        if decision.latency_s:
            time.sleep(decision.latency_s)
        if decision.status is not None:
            return self._finish(call, _injected(decision), outcome=decision.outcome)
        call.user = self.accounts.user_for(token)
        if call.user is None:
            return self._finish(call, error_response(401, "Invalid authentication token"))
        if method == "POST":
            problem = email_problem(query)
            if problem is not None:
                return self._finish(call, json_response(422, {"errors": [problem]}))
            password = None
            response = Response(201)
        else:
            password = self.accounts.rotate(call.user)
            response = json_response(201, {"new_password": password})
        # The change took effect: answer as the standing fault decides.
        if decision.drop:
            return self._finish(call, None, outcome="drop", applied=True)
        if decision.malformed is not None:
            malformed = _malformed(decision.malformed, password)
            return self._finish(call, malformed, outcome=decision.malformed, applied=True)
        return self._finish(call, response, applied=True)

    def _finish(
        self,
        call: ApiCall,
        response: Response | None,
        *,
        outcome: str = "ok",
        applied: bool = False,
    ) -> Response | None:
        """Journal and log the answer before it is sent, so a client that has its answer always
        finds the entry already there."""
        elapsed_ms = (time.monotonic() - call.started) * 1000.0
        path = self.redact_path(call.path)
        status = None if response is None else response.status
        self.journal.record(
            time=time.time(),
            method=call.method,
            path=path,
            query=_journal_query(call.query, self.accounts.redact),
            status=status,
            outcome=outcome,
            applied=applied,
            user=call.user,
            token_id=None if call.token is None else token_id(call.token),
            elapsed_ms=round(elapsed_ms, 3),
        )
        _log.info(
            "%s %s -> %s outcome=%s user=%s %.1fms",
            call.method,
            path,
            status or "dropped",
            outcome,
            call.user or "-",
            elapsed_ms,
        )
        return response


def _injected(decision: Decision) -> Response:
    status = HTTPStatus(decision.status or 503)
    headers: tuple[tuple[str, str], ...] = ()
    if decision.retry_after is not None:
        headers = (("Retry-After", str(decision.retry_after)),)
    return error_response(status, f"{status.phrase} (emulated fault)", headers)


def _malformed(kind: str, password: str | None) -> Response:
    """A 201 the client cannot use. Only `truncated` carries the password (see faults.py)."""
    if password is None or kind == "not-json":
        return Response(201, NOT_JSON_BODY, JSON_TYPE)
    if kind == "missing-field":
        return json_response(201, {"status": "ok"})
    return Response(201, ('{"new_password": "' + password).encode(), JSON_TYPE)


def _journal_query(query: str, redact: Callable[[str], str]) -> dict[str, list[str]]:
    parsed = parse_qs(query, keep_blank_values=True, errors="replace")
    return {redact(key): [redact(value) for value in values] for key, values in parsed.items()}

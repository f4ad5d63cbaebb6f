"""Responses as the emulator sends them, and paths fit for a log line.

Shared by the Metal API, the control API and the HTTP handler, so none of them depends on
another for these.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

__all__ = [
    "JSON_TYPE",
    "RequestError",
    "Response",
    "error_response",
    "json_response",
    "redacted_path",
]

JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = field(default=b"", repr=False)  # may hold a password
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


class RequestError(Exception):
    """A request that cannot be read; answered with `status` and the connection closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_response(
    status: int, payload: object, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, JSON_TYPE, headers)


def error_response(
    status: int, message: str, headers: tuple[tuple[str, str], ...] = ()
) -> Response:
    """The spec's Error shape, `{"error": message}`."""
    return json_response(status, {"error": message}, headers)


def redacted_path(path: str, redact: Callable[[str], str]) -> str:
    """`path` fit for a log line or the journal: no token or issued password, as sent or
    percent-encoded (a client that misplaced a secret in the URL may have encoded it).

    Shown decoded only when decoding revealed a secret, so ordinary paths stay as sent.
    """
    as_sent = redact(path)
    decoded = unquote(as_sent, errors="replace")
    redacted = redact(decoded)
    return as_sent if redacted == decoded else redacted

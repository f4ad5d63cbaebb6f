"""The HTTP request handler: the two Metal endpoints and the `/_emulator/` control API.

Every response goes out in ONE socket write (status line, headers and body together) on a socket
with TCP_NODELAY. The stdlib's own `send_response`/`end_headers` then body writes stall each
keep-alive request for about 40 ms (Nagle plus delayed ACK), which would make every client test
slow for no reason.

Query strings are decoded as HTML forms are, like the Rails app behind the real API: `%2B` is a
plus sign and a raw `+` is a space. `a+b@x.io` sent unencoded therefore arrives as `a b@x.io` and
is refused with 422, which is what a client that forgets to encode `+` deserves to learn early.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, parse_qsl, unquote

from pulumi_metal_reset.emulator.faults import Decision, FaultConfig, FaultConfigError
from pulumi_metal_reset.emulator.journal import token_id

if TYPE_CHECKING:
    from pulumi_metal_reset.emulator.server import EmulatorHTTPServer

__all__ = ["CONTROL_PREFIX", "RESET_PATH", "EmulatorHandler", "email_problem"]

RESET_PATH = "/metal/v1/reset-password"
CONTROL_PREFIX = "/_emulator"
API_METHODS = ("DELETE", "POST")
CONTROL_ROUTES = {
    CONTROL_PREFIX + "/faults": ("DELETE", "GET", "PATCH", "PUT"),
    CONTROL_PREFIX + "/journal": ("DELETE", "GET"),
}
MAX_BODY = 64 * 1024
JSON_TYPE = "application/json"
# Syntactic only: one @, no spaces, a dot in the domain. Enough to refuse what the API refuses.
EMAIL_RE = re.compile(r"[^@\s]+@(?:[^@\s.]+\.)+[^@\s.]+")
NOT_JSON_BODY = b"<html><body><h1>201 Created</h1></body></html>"

_log = logging.getLogger("pulumi_metal_reset.emulator")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = field(default=b"", repr=False)  # may hold a password
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class _Call:
    """One API request on its way to the journal."""

    started: float
    path: str
    query: str
    token: str | None = field(repr=False)
    user: str | None = None


class _RequestError(Exception):
    """A request the handler cannot read; answered with `status` and the connection closed."""

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
    return json_response(status, {"error": message}, headers)


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


class EmulatorHandler(BaseHTTPRequestHandler):
    """One connection; `BaseHTTPRequestHandler` loops over its keep-alive requests."""

    server: EmulatorHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "metal-emulator"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 60  # an idle keep-alive connection is closed after this many seconds

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's per-request stderr lines; ours go through `logging`."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors raised by the stdlib (bad request line, unknown method) as JSON."""
        status = HTTPStatus(code)
        self._send(error_response(status, message or status.phrase), close=True)

    # --- dispatch -----------------------------------------------------------------------------

    def _handle(self) -> None:
        started = time.monotonic()
        path, _, query = self.path.partition("?")
        try:
            body = self._read_body()
            if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
                self._control(path, body)
            else:
                self._api(path, query, started)
        except _RequestError as err:
            self._send(error_response(err.status, err.message), close=True)
        except Exception as exc:  # a bug here must not hang the client or print secrets
            where = self._redact_path(path)
            _log.error("emulator error on %s %s: %s", self.command, where, type(exc).__name__)
            self._send(error_response(500, "emulator internal error"), close=True)

    def _read_body(self) -> bytes:
        """Read the body so the next keep-alive request starts where it should."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise _RequestError(
                411, "chunked request bodies are not supported; send Content-Length"
            )
        raw = self.headers.get("Content-Length", "0").strip() or "0"
        if not raw.isdigit():
            raise _RequestError(400, "Content-Length is not a number")
        length = int(raw)
        if length > MAX_BODY:
            raise _RequestError(413, f"request bodies are limited to {MAX_BODY} bytes")
        return self.rfile.read(length) if length else b""

    # --- the Metal API ------------------------------------------------------------------------

    def _api(self, path: str, query: str, started: float) -> None:
        call = _Call(started, path, query, self.headers.get("X-Auth-Token"))
        if path != RESET_PATH:
            self._finish(call, error_response(404, "Not found"))
            return
        if self.command not in API_METHODS:
            allow = (("Allow", ", ".join(API_METHODS)),)
            self._finish(call, error_response(405, "Method not allowed", allow))
            return
        decision = self.server.faults.next_decision()
        if decision.latency_s:
            time.sleep(decision.latency_s)
        if decision.status is not None:
            self._finish(call, _injected(decision), outcome=decision.outcome)
            return
        call.user = self.server.accounts.user_for(call.token)
        if call.user is None:
            self._finish(call, error_response(401, "Invalid authentication token"))
            return
        if self.command == "POST":
            problem = email_problem(query)
            if problem is not None:
                self._finish(call, json_response(422, {"errors": [problem]}))
                return
            password = None
            response = Response(201)
        else:
            password = self.server.accounts.rotate(call.user)
            response = json_response(201, {"new_password": password})
        self._finish_applied(call, response, decision, password)

    def _finish_applied(
        self, call: _Call, response: Response, decision: Decision, password: str | None
    ) -> None:
        """Answer a request whose change took effect, as the standing fault decides."""
        if decision.drop:
            self._finish(call, None, outcome="drop", applied=True)
        elif decision.malformed is not None:
            malformed = _malformed(decision.malformed, password)
            self._finish(call, malformed, outcome=decision.malformed, applied=True)
        else:
            self._finish(call, response, applied=True)

    def _finish(
        self, call: _Call, response: Response | None, *, outcome: str = "ok", applied: bool = False
    ) -> None:
        """Journal and log the answer, then send it (None: close the connection unanswered).

        Journal first, so a client that has its answer always finds the entry already there.
        """
        elapsed_ms = (time.monotonic() - call.started) * 1000.0
        redact = self.server.accounts.redact
        path = self._redact_path(call.path)
        status = None if response is None else response.status
        self.server.journal.record(
            time=time.time(),
            method=self.command,
            path=path,
            query=_journal_query(call.query, redact),
            status=status,
            outcome=outcome,
            applied=applied,
            user=call.user,
            token_id=None if call.token is None else token_id(call.token),
            elapsed_ms=round(elapsed_ms, 3),
        )
        _log.info(
            "%s %s -> %s outcome=%s user=%s %.1fms",
            self.command,
            path,
            status or "dropped",
            outcome,
            call.user or "-",
            elapsed_ms,
        )
        if response is None:
            self.close_connection = True
        else:
            self._send(response)

    # --- the control API ----------------------------------------------------------------------

    def _control(self, path: str, body: bytes) -> None:
        methods = CONTROL_ROUTES.get(path.rstrip("/"))
        if methods is None:
            response = error_response(404, "Not found")
        elif self.command not in methods:
            response = error_response(405, "Method not allowed", (("Allow", ", ".join(methods)),))
        elif path.rstrip("/").endswith("/faults"):
            response = self._control_faults(body)
        else:
            response = self._control_journal()
        # Logged before sending, like API requests, so a client holding its answer sees the line.
        _log.debug("control %s %s -> %s", self.command, self._redact_path(path), response.status)
        self._send(response)

    def _control_faults(self, body: bytes) -> Response:
        faults = self.server.faults
        try:
            if self.command == "PUT":
                faults.set(FaultConfig.from_json(_json_body(body)))
            elif self.command == "PATCH":
                data = _json_body(body)
                faults.modify(lambda current: FaultConfig.from_json(data, base=current))
            elif self.command == "DELETE":
                faults.clear()
        except FaultConfigError as err:
            return json_response(422, {"errors": err.problems})
        return json_response(200, faults.to_json())

    def _control_journal(self) -> Response:
        journal = self.server.journal
        if self.command == "DELETE":
            return json_response(200, {"cleared": journal.clear()})
        return json_response(200, {"entries": [entry.to_json() for entry in journal.snapshot()]})

    def _redact_path(self, path: str) -> str:
        """`path` fit for a log line or the journal: no token or issued password, as sent or
        percent-encoded (a client that misplaced a secret in the URL may have encoded it).

        Shown decoded only when decoding revealed a secret, so ordinary paths stay as sent.
        """
        redact = self.server.accounts.redact
        as_sent = redact(path)
        decoded = unquote(as_sent, errors="replace")
        redacted = redact(decoded)
        return as_sent if redacted == decoded else redacted

    # --- the wire -----------------------------------------------------------------------------

    def _send(self, response: Response, *, close: bool = False) -> None:
        """Write the whole response with one `write`: see the module docstring for why."""
        if close:
            self.close_connection = True
        status = HTTPStatus(response.status)
        lines = [
            f"{self.protocol_version} {status.value} {status.phrase}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
        ]
        if response.content_type:
            lines.append(f"Content-Type: {response.content_type}")
        lines.append(f"Content-Length: {len(response.body)}")
        lines.extend(f"{name}: {value}" for name, value in response.headers)
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        payload = head if self.command == "HEAD" else head + response.body
        try:
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True


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


def _json_body(body: bytes) -> object:
    try:
        return json.loads(body or b"{}")
    except ValueError:
        raise FaultConfigError(["the body is not valid JSON"]) from None


def _journal_query(query: str, redact: Callable[[str], str]) -> dict[str, list[str]]:
    parsed = parse_qs(query, keep_blank_values=True, errors="replace")
    return {redact(key): [redact(value) for value in values] for key, values in parsed.items()}

"""The HTTP handler: reads each request off a connection, routes it to the Metal API or the
control API, and writes the answer.

Every response goes out in ONE socket write (status line, headers and body together) on a socket
with TCP_NODELAY. The stdlib's own `send_response`/`end_headers` then body writes stall each
keep-alive request for about 40 ms (Nagle plus delayed ACK), which would make every client test
slow for no reason.

It depends on `Backend`, a small protocol for what it needs from the server that owns it (the
two APIs and path redaction), never on the server itself.
"""

from __future__ import annotations

import logging
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

from pulumi_metal_reset.emulator.control_api import ControlApi, is_control_path
from pulumi_metal_reset.emulator.metal_api import MetalApi
from pulumi_metal_reset.emulator.wire import RequestError, Response, error_response

__all__ = ["MAX_BODY", "Backend", "EmulatorHandler"]

MAX_BODY = 64 * 1024

_log = logging.getLogger("pulumi_metal_reset.emulator")


class Backend(Protocol):
    """What the handler needs from its server."""

    @property
    def metal_api(self) -> MetalApi: ...

    @property
    def control_api(self) -> ControlApi: ...

    def redact_path(self, path: str) -> str:
        """The path with every token and password ever issued taken out, for log lines."""
        ...


class EmulatorHandler(BaseHTTPRequestHandler):
    """One connection; `BaseHTTPRequestHandler` loops over its keep-alive requests.

    Made per connection by the server as `functools.partial(EmulatorHandler, backend=server)`.
    """

    protocol_version = "HTTP/1.1"
    server_version = "metal-emulator"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 60  # an idle keep-alive connection is closed after this many seconds

    def __init__(self, request: Any, client_address: Any, server: Any, *, backend: Backend) -> None:
        self.backend = backend  # before super().__init__, which serves the connection
        super().__init__(request, client_address, server)

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
        """Protocol errors raised by the stdlib (a bad request line) as JSON. A method with no
        `do_` handler (TRACE, CONNECT, ...) goes to the APIs, which answer 405 with `Allow`."""
        if code == HTTPStatus.NOT_IMPLEMENTED and self.command:
            self._handle()
            return
        status = HTTPStatus(code)
        self._send(error_response(status, message or status.phrase), close=True)

    # --- dispatch -----------------------------------------------------------------------------

    def _handle(self) -> None:
        started = time.monotonic()
        path, _, query = self.path.partition("?")
        backend = self.backend
        try:
            body = self._read_body()
            if is_control_path(path):
                response = backend.control_api.serve(self.command, path, body)
                # Logged before sending, like API requests, so a client holding its answer
                # sees the line.
                where = backend.redact_path(path)
                _log.debug("control %s %s -> %s", self.command, where, response.status)
                self._send(response)
                return
            token = self.headers.get("X-Auth-Token")
            answer = backend.metal_api.serve(self.command, path, query, token, started)
            if answer is None:
                self.close_connection = True  # the `drop` fault: no answer at all
            else:
                self._send(answer)
        except RequestError as err:
            self._send(error_response(err.status, err.message), close=True)
        except Exception as exc:  # a bug here must not hang the client or print secrets
            where = backend.redact_path(path)
            _log.error("emulator error on %s %s: %s", self.command, where, type(exc).__name__)
            self._send(error_response(500, "emulator internal error"), close=True)

    def _read_body(self) -> bytes:
        """Read the body so the next keep-alive request starts where it should."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise RequestError(411, "chunked request bodies are not supported; send Content-Length")
        raw = self.headers.get("Content-Length", "0").strip() or "0"
        if not (raw.isascii() and raw.isdigit()):  # "²" is a Unicode digit int() refuses
            raise RequestError(400, "Content-Length is not a number")
        length = int(raw)
        if length > MAX_BODY:
            raise RequestError(413, f"request bodies are limited to {MAX_BODY} bytes")
        return self.rfile.read(length) if length else b""

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

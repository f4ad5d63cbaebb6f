"""A scripted HTTP/1.1 (or HTTPS) server on loopback, so the client is tested over real sockets.

Each test queues the responses it wants; the server records every request it reads and every
TCP connection it accepts. Responses go out in one write: writing headers and body separately
stalls a keep-alive connection for ~44 ms (Nagle plus delayed ACK). With an SSL context it
serves HTTPS; a client that rejects the certificate is counted in `accepted` and never reaches
`requests`.
"""

from __future__ import annotations

import collections
import http.server
import json
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any

TOKEN = "tok-SECRET-abc123"
PASSWORD = "pw-SECRET-xyz"
SECRETS = (TOKEN, PASSWORD)


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a response, a dropped connection, a delay or raw bytes."""

    status: int = 201
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    #: Read the request, then close the connection without answering.
    drop: bool = False
    #: Seconds to wait before answering (to provoke the client's read timeout).
    delay: float = 0.0
    #: Send these bytes as the whole answer, then close the connection.
    raw: bytes | None = None
    #: On TLS, write these bytes to the TCP socket under the TLS layer (not a TLS record).
    under_tls: bytes | None = None

    @classmethod
    def json(cls, status: int, payload: Any, **headers: str) -> Reply:
        body = json.dumps(payload).encode()
        return cls(status, {"Content-Type": "application/json", **headers}, body)


@dataclass(frozen=True)
class Seen:
    """One request as the server read it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    at: float
    port: int


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    scripted: ScriptedServer
    context: ssl.SSLContext | None = None

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        self.scripted.note_accepted()
        return sock, address

    def finish_request(self, request: Any, client_address: Any) -> None:
        """The TLS handshake runs here, in the connection's own thread."""
        if self.context is None:
            super().finish_request(request, client_address)
            return
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except OSError:  # the client rejected our certificate: expected in the failure tests
            return
        with tls:
            super().finish_request(tls, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # an idle keep-alive connection is closed after this

    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.scripted.note_connection(self.client_address[1])

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr log."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path, _, query = self.path.partition("?")
        scripted = self.server.scripted
        reply = scripted.record(
            Seen(
                method=self.command,
                path=path,
                query=query,
                headers={k.lower(): v for k, v in self.headers.items()},
                at=time.monotonic(),
                port=self.client_address[1],
            )
        )
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            self.close_connection = True
            return
        if reply.raw is not None:
            self.wfile.write(reply.raw)
            self.close_connection = True
            return
        if reply.under_tls is not None:
            os.write(self.connection.fileno(), reply.under_tls)
            self.close_connection = True
            return
        reason = http.server.BaseHTTPRequestHandler.responses.get(reply.status, ("Whatever",))[0]
        lines = [f"HTTP/1.1 {reply.status} {reason}"]
        lines += [f"{k}: {v}" for k, v in reply.headers.items()]
        lines.append(f"Content-Length: {len(reply.body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + reply.body)

    do_POST = do_DELETE = do_GET = _answer


class ScriptedServer:
    """Queue replies with `script`; read `requests` and `ports` afterwards."""

    def __init__(self, default: Reply, context: ssl.SSLContext | None = None) -> None:
        self._lock = threading.Lock()
        self._queue: collections.deque[Reply] = collections.deque()
        self.default = default
        self.requests: list[Seen] = []
        self.ports: set[int] = set()
        self.accepted = 0  # TCP connections accepted, whether or not a TLS handshake followed
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.scripted = self
        self._httpd.context = context
        self.port = self._httpd.server_address[1]
        self.url = f"{'https' if context else 'http'}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def record(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            return self._queue.popleft() if self._queue else self.default

    def note_connection(self, port: int) -> None:
        with self._lock:
            self.ports.add(port)

    def note_accepted(self) -> None:
        with self._lock:
            self.accepted += 1

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

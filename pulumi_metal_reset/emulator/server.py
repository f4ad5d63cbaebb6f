"""The emulator's server and its in-process handle, `Emulator`.

Built on the standard library's `ThreadingHTTPServer` on purpose:

- zero dependencies, so users' CI needs nothing beyond this package;
- a start in tens of milliseconds (no framework, no event loop to import);
- raw control of the socket, which the faults need: one write per response, TCP_NODELAY, and
  "apply the change, then drop the connection" without a framework insisting on an answer.

It listens on loopback only: the control API has no authentication, and nothing here is meant
to face a network.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import socket
import socketserver
import sys
import threading
from collections.abc import Mapping
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from pulumi_metal_reset.emulator.accounts import DEV_TOKEN, DEV_USER, Accounts
from pulumi_metal_reset.emulator.control_api import CONTROL_PREFIX, ControlApi
from pulumi_metal_reset.emulator.faults import FaultConfig, Faults
from pulumi_metal_reset.emulator.handler import EmulatorHandler
from pulumi_metal_reset.emulator.journal import DEFAULT_JOURNAL_LIMIT, Journal, JournalEntry
from pulumi_metal_reset.emulator.metal_api import MetalApi
from pulumi_metal_reset.endpoint import METAL_PATH, is_loopback_host

__all__ = ["Emulator", "EmulatorHTTPServer", "PortInUseError", "bind_failure"]

_log = logging.getLogger("pulumi_metal_reset.emulator")
_POLL_INTERVAL = 0.05  # how long `stop()` may wait for the accept loop to notice


def _address_text(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class PortInUseError(OSError):
    """The port is taken. `errno` and `strerror` are the operating system's, as for any bind
    failure; `str()` is one sentence that says what to do."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(errno.EADDRINUSE, "Address already in use")
        self.sentence = (
            f"The emulator cannot listen on {_address_text(host, port)} because that port is "
            "already in use; stop what is listening there, or pass --port 0 (port=0 in Python) "
            "to take any free port and use the URL the emulator reports."
        )

    def __str__(self) -> str:
        return self.sentence


def bind_failure(host: str, port: int, err: OSError) -> str:
    """One sentence for any other failure to listen (e.g. a privileged port)."""
    return (
        f"The emulator cannot listen on {_address_text(host, port)} ({err.strerror}); choose "
        "another port, or pass --port 0 to take any free one."
    )


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A thread per connection; it is the `handler.Backend` its handlers work through."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128  # a burst of new connections must not wait for SYN retries

    def __init__(
        self, address: tuple[str, int], accounts: Accounts, faults: Faults, journal: Journal
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.metal_api = MetalApi(accounts, faults, journal)
        self.control_api = ControlApi(faults, journal)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, functools.partial(EmulatorHandler, backend=self))

    def redact_path(self, path: str) -> str:
        return self.metal_api.redact_path(path)

    def server_bind(self) -> None:
        """Skip `HTTPServer.server_bind`'s reverse DNS lookup (`getfqdn`): it can take seconds."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End idle keep-alive connections, whose threads would otherwise wait for the client."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log the exception's type only: its message may quote what a client sent."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            _log.debug("connection ended: %s", type(error).__name__)
        else:
            _log.error("connection handler failed: %s", type(error).__name__)


class Emulator:
    """A running emulator in this process: `with Emulator() as emu: ... emu.url ...`.

    `tokens` maps API token to user name (default: `DEV_TOKEN` for user `dev`). One lifecycle:
    `start()` once, `stop()` as often as you like.
    """

    def __init__(
        self,
        tokens: Mapping[str, str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultConfig | None = None,
        journal_limit: int = DEFAULT_JOURNAL_LIMIT,
    ) -> None:
        if not is_loopback_host(host):
            raise ValueError("the emulator listens on loopback addresses only (127.0.0.1, ::1)")
        if not 0 <= port <= 65535:
            raise ValueError(f"{port} is not a port; give 0-65535 (0: any free port)")
        self._accounts = Accounts(tokens if tokens is not None else {DEV_TOKEN: DEV_USER})
        self._faults = Faults(faults)
        self._journal = Journal(journal_limit)
        self._address = (host, port)
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._started = False

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Emulator:
        if self._started:
            raise RuntimeError("this emulator was already started; create a new one")
        self._started = True
        try:
            server = EmulatorHTTPServer(self._address, self._accounts, self._faults, self._journal)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise PortInUseError(*self._address) from None
            raise
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL},
            name=f"metal-emulator-{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        _log.debug("emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    # --- addresses ----------------------------------------------------------------------------

    def _bound(self) -> EmulatorHTTPServer:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return self._server

    @property
    def host(self) -> str:
        return self._bound().server_name

    @property
    def port(self) -> int:
        return self._bound().server_port

    @property
    def root_url(self) -> str:
        """`http://host:port`, without Metal's path: where the control API lives."""
        return f"http://{_address_text(self.host, self.port)}"

    @property
    def url(self) -> str:
        """The Metal API base URL, ending in `/metal/v1`."""
        return self.root_url + METAL_PATH

    @property
    def control_url(self) -> str:
        return self.root_url + CONTROL_PREFIX

    # --- state --------------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self._faults

    @property
    def journal(self) -> list[JournalEntry]:
        """A snapshot: later requests do not change the list you hold."""
        return self._journal.snapshot()

    def reset_journal(self) -> int:
        """Forget the journal; returns how many entries there were."""
        return self._journal.clear()

    @property
    def users(self) -> tuple[str, ...]:
        return self._accounts.users

    def token_for_user(self, user: str) -> str:
        """A token that authenticates as `user`; KeyError for an unknown user."""
        return self._accounts.token_for(user)

    def password_of(self, user: str) -> str | None:
        """The user's current password, None before any rotation. In process only, by design."""
        return self._accounts.password_of(user)

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"Emulator({where}, users={list(self.users)!r})"

"""Real TLS on loopback: the client trusts SSL_CERT_FILE and REQUESTS_CA_BUNDLE, nothing else.

A trustme CA signs a certificate for 127.0.0.1 that no system or certifi bundle trusts, so a
call succeeds only if the client loaded the CA from the variable under test.
"""

from __future__ import annotations

import logging
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import certifi
import pytest
import trustme

from pulumi_metal_reset.client import MetalClient, _transport
from pulumi_metal_reset.errors import AmbiguousOutcomeError, ConfigurationError, NetworkError

from .conftest import client_for, connection
from .socks_proxy import Socks5Proxy
from .support import PASSWORD, TOKEN, Reply, ScriptedServer


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@contextmanager
def _tls_server(ca: trustme.CA, host: str) -> Iterator[ScriptedServer]:
    """A scripted HTTPS server whose certificate, signed by `ca`, names `host`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(host).configure_cert(context)
    server = ScriptedServer(Reply.json(201, {"new_password": PASSWORD}), context=context)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[ScriptedServer]:
    """A fresh port per test (the autouse `fresh_transports` fixture adds a fresh session cache
    and clears the outer environment's CA variables), so no pooled connection verified under
    another test's CA can make this one pass."""
    with _tls_server(ca, "127.0.0.1") as server:
        yield server


def test_ssl_cert_file_is_trusted(
    tls_server: ScriptedServer, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    assert client_for(tls_server).reset_password().new_password.get_secret_value() == PASSWORD


def test_requests_ca_bundle_is_trusted(
    tls_server: ScriptedServer, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    assert client_for(tls_server).reset_password().new_password.get_secret_value() == PASSWORD


def test_requests_ca_bundle_wins_over_ssl_cert_file(
    tls_server: ScriptedServer, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same order as requests: SSL_CERT_FILE is only the fallback."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with pytest.raises(NetworkError) as info:
        client_for(tls_server).reset_password()
    assert "REQUESTS_CA_BUNDLE" in str(info.value)


def test_curl_ca_bundle_is_trusted(
    tls_server: ScriptedServer, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CURL_CA_BUNDLE", str(ca_file))
    assert client_for(tls_server).reset_password().new_password.get_secret_value() == PASSWORD


@pytest.mark.parametrize(
    ("winner", "loser"),
    [("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"), ("CURL_CA_BUNDLE", "SSL_CERT_FILE")],
)
def test_ca_variables_keep_their_order(
    tls_server: ScriptedServer,
    ca_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    winner: str,
    loser: str,
) -> None:
    """REQUESTS_CA_BUNDLE, then CURL_CA_BUNDLE (requests' order), then SSL_CERT_FILE."""
    monkeypatch.setenv(winner, certifi.where())
    monkeypatch.setenv(loser, str(ca_file))
    with pytest.raises(NetworkError) as info:
        client_for(tls_server).reset_password()
    assert winner in str(info.value)
    monkeypatch.setenv(winner, str(ca_file))
    monkeypatch.setenv(loser, certifi.where())
    monkeypatch.setattr(_transport, "_transports", {})
    assert client_for(tls_server).reset_password().new_password.get_secret_value() == PASSWORD


@pytest.mark.parametrize("max_retries", [0, 3])
def test_untrusted_certificate_fails_once_without_secrets(
    tls_server: ScriptedServer, max_retries: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The retry policy retries connect errors only (`other=0`): one handshake, however many
    retries are allowed, since a certificate that failed once fails again."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(NetworkError) as info:
        client_for(tls_server, max_retries=max_retries).reset_password()
    error = info.value
    message = str(error)
    assert not isinstance(error, AmbiguousOutcomeError)
    assert "TLS certificate" in message
    assert "nothing was sent" in message
    assert message.count(". ") == 0
    assert message.endswith(".")
    assert " retries" not in message
    assert TOKEN not in message
    assert TOKEN not in repr(error)
    assert error.__cause__ is None
    assert error.__suppress_context__
    assert tls_server.accepted == 1
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_ca_variables_are_read_once_per_process(
    tls_server: ScriptedServer, ca_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read when the endpoint's session is made, then kept: the provider process lives for one
    deployment, so a variable changed inside it later is not followed (see _transport)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    assert client_for(tls_server).reset_password().new_password.get_secret_value() == PASSWORD
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    _transport.transport_for(client_for(tls_server)._conn).session.close()  # force a new handshake
    assert client_for(tls_server).reset_password().new_password.get_secret_value() == PASSWORD
    assert tls_server.accepted == 2


def test_missing_ca_file_is_a_configuration_error(
    tls_server: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigurationError, match="SSL_CERT_FILE does not exist"):
        client_for(tls_server).reset_password()
    assert tls_server.accepted == 0


@pytest.mark.parametrize("call", ["reset_password", "create_password_reset_token"])
def test_a_tls_failure_after_the_request_was_sent_is_ambiguous(
    tls_server: ScriptedServer, ca_file: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    """urllib3 raises the same SSLError for a failed handshake and for a TLS record broken once
    the request is out; the second may have reset the password, so it is never re-sent and
    never called "nothing was sent"."""
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    tls_server.script(Reply(under_tls=b"HTTP/1.1 201 Created\r\n\r\n"))
    client = client_for(tls_server, max_retries=3)
    send: Callable[[], object] = (
        client.reset_password
        if call == "reset_password"
        else partial(client.create_password_reset_token, "a@x.io")
    )
    with pytest.raises(NetworkError) as info:
        send()
    assert isinstance(info.value, AmbiguousOutcomeError)
    assert "nothing was sent" not in str(info.value)
    assert len(tls_server.requests) == 1


class _Listener:
    """Accepts TCP connections and never starts TLS: it resets each at once, or keeps it open
    and silent."""

    def __init__(self, *, reset: bool) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted = 0
        self._reset = reset
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            if self._reset:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            else:
                self._held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self._held:
            conn.close()


@pytest.mark.parametrize(
    ("reset", "says"), [(True, "no connection"), (False, "timed out after 1 s")]
)
def test_a_handshake_that_breaks_or_stalls_sent_nothing_and_is_retried(
    reset: bool, says: str
) -> None:
    """A connection reset, or silent, before the handshake ends could not be opened: retried
    like a refused one and reported as nothing sent (urllib3 alone calls the reset a drop and
    the stall a read timeout, both after sending)."""
    listener = _Listener(reset=reset)
    try:
        client = MetalClient(
            connection(
                api_url=listener.url, token=TOKEN, timeout=1, max_retries=2, max_retry_wait=0.01
            )
        )
        with pytest.raises(NetworkError) as info:
            client.reset_password()
    finally:
        listener.close()
    assert not isinstance(info.value, AmbiguousOutcomeError)
    assert says in str(info.value)
    assert "nothing was sent" in str(info.value)
    assert listener.accepted == 3


@pytest.fixture
def remote_tls_server(ca: trustme.CA) -> Iterator[ScriptedServer]:
    """A TLS server whose certificate names a remote host, reached only through a proxy."""
    with _tls_server(ca, "metal.example.test") as server:
        yield server


@pytest.mark.parametrize(
    ("reply", "ambiguous"),
    [(Reply.json(201, {"new_password": PASSWORD}), None), (Reply(under_tls=b"HTTP/1.1 2"), True)],
)
def test_through_a_socks_proxy_a_tls_failure_after_sending_is_ambiguous_too(
    remote_tls_server: ScriptedServer,
    ca_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    reply: Reply,
    ambiguous: bool | None,
) -> None:
    """The socks proxy manager's HTTPS pools tell a handshake from a sent request as the
    others do (PySocks, and a SOCKS5 proxy on loopback that relays to the server)."""
    proxy = Socks5Proxy(remote_tls_server.port)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    remote_tls_server.script(reply)
    client = MetalClient(
        connection(api_url="https://metal.example.test", token=TOKEN, max_retries=2)
    )
    try:
        if ambiguous is None:
            assert client.reset_password().new_password.get_secret_value() == PASSWORD
        else:
            with pytest.raises(AmbiguousOutcomeError):
                client.reset_password()
    finally:
        proxy.close()
    assert proxy.connects == ["metal.example.test:443"]
    assert len(remote_tls_server.requests) == 1

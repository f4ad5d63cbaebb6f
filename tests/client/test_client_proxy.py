"""Proxies as requests resolves them: *_PROXY and NO_PROXY apply, loopback endpoints bypass them.

The "proxy" is a loopback socket that records what it is asked and refuses every tunnel, and
name resolution is stubbed so that nothing but 127.0.0.1 is ever reached: a request that was
sent through the proxy shows up in its log as `CONNECT host:443`, one sent directly fails to
resolve its host name.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator

import pytest

from pulumi_metal_reset.client import _transport
from pulumi_metal_reset.errors import ConfigurationError, NetworkError

from .conftest import MakeClient
from .support import PASSWORD, Reply, ScriptedServer

REMOTE = "https://metal.example.test"


class RecordingProxy:
    """Accepts connections on loopback, records each request line, answers 403 and closes."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                with self._lock:
                    self.lines.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingProxy]:
    """A recording proxy and no DNS but loopback (the autouse `fresh_transports` fixture clears
    the outer environment's proxy variables)."""
    real = socket.getaddrinfo

    def loopback_only(host: object, *args: object, **kwargs: object) -> object:
        if host not in ("127.0.0.1", "localhost", b"127.0.0.1"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    server = RecordingProxy()
    try:
        yield server
    finally:
        server.close()


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
def test_a_remote_endpoint_goes_through_the_proxy(
    proxy: RecordingProxy, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, proxy.url)
    with pytest.raises(NetworkError) as info:
        make_client(api_url=REMOTE, max_retries=0).reset_password()
    assert [line.rsplit(" ", 1)[0] for line in proxy.lines] == ["CONNECT metal.example.test:443"]
    assert "the proxy could not be reached" in str(info.value)


@pytest.mark.parametrize("no_proxy", ["metal.example.test", ".example.test", "example.test"])
def test_no_proxy_sends_a_remote_endpoint_directly(
    proxy: RecordingProxy, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    with pytest.raises(NetworkError) as info:
        make_client(api_url=REMOTE, max_retries=0).reset_password()
    assert proxy.lines == []
    assert "its host name could not be resolved" in str(info.value)


def test_a_loopback_endpoint_bypasses_every_proxy(
    proxy: RecordingProxy,
    server: ScriptedServer,
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(variable, proxy.url)
    server.script(Reply.json(201, {"new_password": PASSWORD}))
    assert make_client().reset_password().new_password.get_secret_value() == PASSWORD
    assert proxy.lines == []
    assert len(server.requests) == 1


def test_proxy_variables_are_read_once_per_process(
    proxy: RecordingProxy, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resolved when the endpoint's session is made, then kept for the process (see _transport)."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    with pytest.raises(NetworkError):
        make_client(api_url=REMOTE, max_retries=0).reset_password()
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.setenv("NO_PROXY", "*")
    with pytest.raises(NetworkError, match="the proxy could not be reached"):
        make_client(api_url=REMOTE, max_retries=0).reset_password()
    assert len(proxy.lines) == 2


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("HTTPS_PROXY", "ftp://proxy.example.test:21", "HTTPS_PROXY (or its lower-case"),
        ("https_proxy", "http://:3128", "HTTPS_PROXY (or its lower-case"),
        ("ALL_PROXY", "socks5://", "ALL_PROXY (or its lower-case"),
        # requests reads a bare `name:port` as the scheme `name` (a dotted host gets http://)
        ("HTTPS_PROXY", "squid:3128", "HTTPS_PROXY (or its lower-case"),
        ("HTTPS_PROXY", "socks5h://127.0.0.1:1080", "needs PySocks"),
    ],
)
def test_an_unusable_proxy_is_refused_before_any_socket(
    proxy: RecordingProxy,
    make_client: MakeClient,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    says: str,
) -> None:
    """requests would refuse it only while building the request, which read as "may already
    have been reset"; it is a ConfigurationError naming the variable, and nothing is sent."""
    monkeypatch.setenv(variable, value)
    monkeypatch.setattr(_transport, "_pysocks_installed", lambda: False)
    with pytest.raises(ConfigurationError, match=re.escape(says)) as info:
        make_client(api_url=REMOTE, max_retries=0).reset_password()
    assert not getattr(info.value, "ambiguous", False)
    assert proxy.lines == []

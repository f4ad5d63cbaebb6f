"""Fixtures for the client tests: a scripted loopback server and clients pointed at it."""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pulumi_metal_reset.client import MetalClient, _transport
from pulumi_metal_reset.connection import Connection
from pulumi_metal_reset.settings import connection_for

from .support import TOKEN, Reply, ScriptedServer

MakeClient = Callable[..., MetalClient]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A fresh server (and so a fresh connection pool key) per test; unscripted requests get 500."""
    srv = ScriptedServer(default=Reply.json(500, {"error": "unscripted request"}))
    try:
        yield srv
    finally:
        srv.close()


#: make_client's keyword arguments and the stack config keys they set.
CONFIG_KEYS = {
    "api_url": "equinix:endpoint",
    "token": "equinix:authToken",
    "timeout": "equinix:requestTimeout",
    "max_retries": "equinix:maxRetries",
    "max_retry_wait": "equinix:maxRetryWaitSeconds",
}


def connection(**settings: Any) -> Connection:
    """A connection resolved from stack config, as the provider resolves one (token: TOKEN)."""
    settings.setdefault("token", TOKEN)
    return connection_for({}, {CONFIG_KEYS[k]: str(v) for k, v in settings.items()}, {})


#: The outer environment's say in where a request goes and whom it trusts: the proxy variables,
#: the CA bundle variables the transport reads, and the CA directory OpenSSL reads.
ENVIRONMENT = (
    *(
        name
        for base in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
        for name in (base, base.upper())
    ),
    *_transport.CA_BUNDLE_VARIABLES,
    "SSL_CERT_DIR",
)


@pytest.fixture(autouse=True)
def fresh_transports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no pooled session and none of the outer environment's proxy or CA
    variables, so each reads only what it sets itself and no connection verified or proxied in
    another test can make it pass."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_transport, "_transports", {})


def client_for(server: ScriptedServer, **overrides: Any) -> MetalClient:
    """A client for `server` with test-sized timeouts; keyword arguments override.

    Every setting comes from the stack config, so messages name "the stack config equinix:...".
    """
    settings: dict[str, Any] = {
        "api_url": server.url,
        "token": TOKEN,
        "timeout": 5.0,
        "max_retries": 3,
        "max_retry_wait": 0.01,
    }
    settings.update(overrides)
    return MetalClient(connection(**settings))


@pytest.fixture
def make_client(server: ScriptedServer) -> MakeClient:
    """`client_for(server, ...)`: clients for this test's server."""
    return functools.partial(client_for, server)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port

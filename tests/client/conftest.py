"""Fixtures for the client tests: a scripted loopback server and clients pointed at it."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pulumi_metal_reset.client import MetalClient

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


@pytest.fixture
def make_client(server: ScriptedServer) -> MakeClient:
    """Clients for `server` with test-sized timeouts; keyword arguments override."""

    def make(**overrides: Any) -> MetalClient:
        kwargs: dict[str, Any] = {
            "token_source": "the stack config equinix:authToken",
            "api_url_source": "the stack config equinix:endpoint",
            "timeout": 5.0,
            "max_retries": 3,
            "max_retry_wait": 0.01,
        }
        kwargs.update(overrides)
        api_url = kwargs.pop("api_url", server.url)
        token = kwargs.pop("token", TOKEN)
        return MetalClient(api_url, token, **kwargs)

    return make


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port

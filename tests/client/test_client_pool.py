"""One pooled session per process and endpoint: shared across clients and threads, reused."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter

from pulumi_metal_reset.client import POOL_MAXSIZE, _transport

from .conftest import MakeClient, connection
from .support import PASSWORD, Reply, ScriptedServer


def test_same_session_across_clients_and_threads(server: ScriptedServer) -> None:
    conn = connection(api_url=server.url, max_retries=3, max_retry_wait=0.01)
    barrier = threading.Barrier(8)

    def transport_id() -> int:
        barrier.wait()  # all threads race for the first creation
        return id(_transport.transport_for(conn))

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(lambda _: transport_id(), range(8)))
    transport = _transport.transport_for(conn)
    assert ids == {id(transport)}
    # Tokens travel per request, so another token on the same endpoint shares the pool ...
    same = connection(api_url=server.url, token="another", max_retries=3, max_retry_wait=0.01)
    assert _transport.transport_for(same) is transport
    # ... while another retry policy or another endpoint gets its own.
    other_policy = connection(api_url=server.url, max_retries=4, max_retry_wait=0.01)
    other_url = connection(api_url="http://127.0.0.2:1", max_retries=3, max_retry_wait=0.01)
    assert _transport.transport_for(other_policy) is not transport
    assert _transport.transport_for(other_url) is not transport


def test_adapter_pool_and_policy() -> None:
    """With no proxy or CA variable set (the autouse fixture clears them)."""
    conn = connection(api_url="https://api.equinix.com", max_retries=2, max_retry_wait=0.5)
    transport = _transport.transport_for(conn)
    session = transport.session
    adapter = session.get_adapter("https://api.equinix.com/metal/v1")
    assert adapter is session.get_adapter("http://127.0.0.1:1/")
    assert adapter._pool_maxsize >= 8  # type: ignore[attr-defined]
    assert adapter.max_retries.total == 2  # type: ignore[attr-defined]
    assert session.verify is True
    assert transport.ca_variable is None
    # The environment was read once, when the session was made (test_client_proxy/_tls).
    assert session.trust_env is False
    assert session.proxies == {}


def test_a_url_keeps_its_pool_and_other_tls_settings_never_share_it() -> None:
    """The adapter remembers a URL's pool, keyed on the TLS settings too (CVE-2024-35195)."""
    conn = connection(api_url="https://api.equinix.com", max_retries=2, max_retry_wait=0.5)
    adapter = _transport.transport_for(conn).session.get_adapter("https://api.equinix.com/")
    assert isinstance(adapter, HTTPAdapter)
    request = requests.PreparedRequest()
    request.prepare(method="POST", url="https://api.equinix.com/metal/v1/reset-password?email=a")
    pool = adapter.get_connection_with_tls_context(request, True)
    request.prepare_url("https://api.equinix.com/metal/v1/reset-password?email=b", None)
    assert adapter.get_connection_with_tls_context(request, True) is pool
    assert adapter.get_connection_with_tls_context(request, False) is not pool
    adapter.close()
    assert adapter.get_connection_with_tls_context(request, True) is not pool


def test_four_threads_share_keep_alive_connections(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    server.default = Reply.json(201, {"new_password": PASSWORD})
    calls_per_thread = 50

    def work(_: int) -> int:
        client = make_client()  # a client per call site, as the provider does
        ok = 0
        for i in range(calls_per_thread):
            if i % 2:
                client.create_password_reset_token(f"user{i}@x.io")
                ok += 1
            elif client.reset_password().new_password.get_secret_value() == PASSWORD:
                ok += 1
        return ok

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, range(4)))
    assert results == [calls_per_thread] * 4
    assert len(server.requests) == 4 * calls_per_thread
    assert 1 <= len(server.ports) <= min(4, POOL_MAXSIZE)
    conn = connection(api_url=server.url, timeout=5.0, max_retries=3, max_retry_wait=0.01)
    assert len(_transport.transport_for(conn).session.cookies) == 0

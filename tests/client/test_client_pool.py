"""One pooled session per process: shared across clients and threads, connections reused."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from pulumi_metal_reset.client import POOL_MAXSIZE, _transport

from .conftest import MakeClient
from .support import PASSWORD, Reply, ScriptedServer


def test_same_session_across_clients_and_threads(make_client: MakeClient) -> None:
    barrier = threading.Barrier(8)

    def session_id() -> int:
        barrier.wait()  # all threads race for the first creation
        return id(_transport.shared_session(3, 0.01))

    make_client()
    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(lambda _: session_id(), range(8)))
    assert ids == {id(_transport.shared_session(3, 0.01))}
    assert _transport.shared_session(3, 0.01) is not _transport.shared_session(4, 0.01)


def test_adapter_pool_and_policy() -> None:
    session = _transport.shared_session(2, 0.5)
    adapter = session.get_adapter("https://api.equinix.com/metal/v1")
    assert adapter is session.get_adapter("http://127.0.0.1:1/")
    assert adapter._pool_maxsize >= 8  # type: ignore[attr-defined]
    assert adapter.max_retries.total == 2  # type: ignore[attr-defined]
    assert session.verify is True
    assert session.trust_env is True


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
    session = _transport.shared_session(3, 0.01)
    assert len(session.cookies) == 0

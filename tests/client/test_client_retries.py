"""Retry timing: Retry-After (seconds, HTTP date), its cap, backoff, and what is never retried."""

from __future__ import annotations

import email.utils
import itertools
import time

import pytest

from pulumi_metal_reset.client._transport import retry_policy
from pulumi_metal_reset.errors import AmbiguousServerError, RateLimitedError, ServerError

from .conftest import MakeClient
from .support import PASSWORD, Reply, ScriptedServer


def gaps(server: ScriptedServer) -> list[float]:
    at = [r.at for r in server.requests]
    return [b - a for a, b in itertools.pairwise(at)]


def test_retry_after_seconds_is_honoured(server: ScriptedServer, make_client: MakeClient) -> None:
    server.script(Reply(429, {"Retry-After": "1"}), Reply(201))
    make_client(max_retry_wait=5.0).create_password_reset_token("a@x.io")
    [gap] = gaps(server)
    assert 0.9 <= gap < 2.0


def test_retry_after_http_date_is_honoured(server: ScriptedServer, make_client: MakeClient) -> None:
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    server.script(Reply(503, {"Retry-After": when}), Reply.json(201, {"new_password": PASSWORD}))
    make_client(max_retry_wait=5.0).reset_password()
    [gap] = gaps(server)
    # An HTTP date has whole seconds, so "now + 2 s" is 1 to 2 s away.
    assert 0.9 <= gap < 2.5


def test_retry_after_is_capped_by_max_retry_wait(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    server.script(Reply(429, {"Retry-After": "100"}), Reply(201))
    make_client(max_retry_wait=0.5).create_password_reset_token("a@x.io")
    [gap] = gaps(server)
    assert 0.45 <= gap < 1.5


@pytest.mark.parametrize(
    "value",
    [
        "soon-ish",
        "Mon, 01 Jan 100000 00:00:00 GMT",  # urllib3's date arithmetic raises ValueError
        "-5",
    ],
)
def test_malformed_retry_after_falls_back_to_backoff(
    server: ScriptedServer, make_client: MakeClient, value: str
) -> None:
    server.script(Reply(429, {"Retry-After": value}), Reply(201))
    make_client(max_retry_wait=0.05).create_password_reset_token("a@x.io")
    assert len(server.requests) == 2


def test_first_retry_backs_off_without_retry_after(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    """urllib3 alone would re-send at once; the override waits min(1 s + jitter, max_retry_wait)."""
    server.script(Reply(503), Reply(503), Reply(201))
    make_client(max_retry_wait=0.3).create_password_reset_token("a@x.io")
    assert all(0.28 <= gap < 1.0 for gap in gaps(server)), gaps(server)


@pytest.mark.parametrize(("status", "raises"), [(429, RateLimitedError), (503, ServerError)])
@pytest.mark.parametrize("max_retries", [0, 1, 4])
def test_retries_are_bounded_by_max_retries(
    server: ScriptedServer,
    make_client: MakeClient,
    status: int,
    raises: type[Exception],
    max_retries: int,
) -> None:
    server.default = Reply(status)
    with pytest.raises(raises) as info:
        make_client(max_retries=max_retries).reset_password()
    assert not isinstance(info.value, AmbiguousServerError)
    assert len(server.requests) == max_retries + 1


@pytest.mark.parametrize("status", [500, 502, 504])
@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_ambiguous_5xx_is_sent_exactly_once(
    server: ScriptedServer, make_client: MakeClient, status: int, method: str
) -> None:
    server.default = Reply(status, {"Retry-After": "0"})
    client = make_client(max_retries=5)
    call = (
        (lambda: client.create_password_reset_token("a@x.io"))
        if method == "POST"
        else client.reset_password
    )
    with pytest.raises(AmbiguousServerError):
        call()
    assert len(server.requests) == 1


def test_retry_then_success_returns_the_password(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    server.script(Reply(429), Reply(503), Reply.json(201, {"new_password": PASSWORD}))
    assert make_client().reset_password().new_password.get_secret_value() == PASSWORD
    assert len(server.requests) == 3


def test_policy_overrides_the_urllib3_defaults() -> None:
    """urllib3's defaults, each reset: POST left out, DELETE read errors retried, Retry-After
    capped only at 6 h."""
    policy = retry_policy(7, 2.5)
    assert policy.allowed_methods == frozenset({"POST", "DELETE"})
    assert policy.read is False
    assert policy.other == 0
    assert policy.redirect == 0
    assert policy.raise_on_status is False
    assert set(policy.status_forcelist) == {429, 503}
    assert (policy.total, policy.connect, policy.status) == (7, 7, 7)
    assert policy.parse_retry_after("21600") == 2.5
    assert not policy.is_retry("POST", 413, has_retry_after=True)

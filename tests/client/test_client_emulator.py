"""The client against the emulator over loopback: the same fault modes users' CI can inject."""

from __future__ import annotations

import time

import pytest

from pulumi_metal_reset.client import MetalClient
from pulumi_metal_reset.emulator import DEV_TOKEN, DEV_USER, Emulator
from pulumi_metal_reset.errors import (
    AmbiguousNetworkError,
    AmbiguousOutcomeError,
    AmbiguousServerError,
    InvalidRequestError,
    RateLimitedError,
    ServerError,
    UnauthorizedError,
    UnexpectedResponseError,
)
from pulumi_metal_reset.operations import CREATE_TOKEN, RESET_PASSWORD

from .conftest import connection


def client(emulator: Emulator, token: str = DEV_TOKEN, **options: float) -> MetalClient:
    settings: dict[str, float] = {"max_retries": 3, "max_retry_wait": 2.0, "timeout": 5.0}
    settings.update(options)
    return MetalClient(connection(api_url=emulator.url, token=token, **settings))


def methods(emulator: Emulator) -> list[tuple[str, int | None]]:
    return [(e.method, e.status) for e in emulator.journal]


def test_create_and_reset(metal_emulator: Emulator) -> None:
    api = client(metal_emulator)
    api.create_password_reset_token("a+b@x.io")
    new = api.reset_password()
    assert new.new_password.get_secret_value() == metal_emulator.password_of(DEV_USER)
    assert metal_emulator.journal[0].query == {"email": ["a+b@x.io"]}
    assert methods(metal_emulator) == [("POST", 201), ("DELETE", 201)]


def test_429_waits_for_retry_after_then_succeeds(metal_emulator: Emulator) -> None:
    metal_emulator.faults.set(script=("429", "ok"), retry_after=1)
    started = time.monotonic()
    client(metal_emulator).reset_password()
    assert time.monotonic() - started >= 0.9
    assert methods(metal_emulator) == [("DELETE", 429), ("DELETE", 201)]


def test_rate_limit_after_retries_are_spent(metal_emulator: Emulator) -> None:
    metal_emulator.faults.set(script=("429",) * 3, retry_after=0)
    with pytest.raises(RateLimitedError):
        client(metal_emulator, max_retries=2, max_retry_wait=0.05).reset_password()
    assert len(metal_emulator.journal) == 3


def test_503_is_retried_then_reported(metal_emulator: Emulator) -> None:
    metal_emulator.faults.set(script=("503",) * 4)
    with pytest.raises(ServerError) as caught:
        client(metal_emulator, max_retries=3, max_retry_wait=0.05).create_password_reset_token(
            "ops@example.com"
        )
    assert not isinstance(caught.value, AmbiguousServerError)
    assert len(metal_emulator.journal) == 4


@pytest.mark.parametrize("status", ["500", "502"])
def test_ambiguous_statuses_are_sent_once(metal_emulator: Emulator, status: str) -> None:
    metal_emulator.faults.set(script=(status,))
    with pytest.raises(AmbiguousServerError, match="pulumi up"):
        client(metal_emulator).reset_password()
    assert len(metal_emulator.journal) == 1


def test_drop_after_apply_is_ambiguous_and_not_resent(metal_emulator: Emulator) -> None:
    metal_emulator.faults.set(script=("drop", "drop"))
    with pytest.raises(AmbiguousNetworkError, match="may already have been reset"):
        client(metal_emulator).reset_password()
    with pytest.raises(AmbiguousNetworkError, match="may already have been sent"):
        client(metal_emulator).create_password_reset_token("ops@example.com")
    assert [(e.method, e.applied) for e in metal_emulator.journal] == [
        ("DELETE", True),
        ("POST", True),
    ]


def test_truncated_body_is_never_echoed(metal_emulator: Emulator) -> None:
    metal_emulator.faults.set(script=("truncated",))
    with pytest.raises(UnexpectedResponseError) as caught:
        client(metal_emulator).reset_password()
    password = metal_emulator.password_of(DEV_USER)
    assert password is not None
    assert password not in str(caught.value)
    assert password not in repr(caught.value)


def test_wrong_token_and_bad_email(metal_emulator: Emulator) -> None:
    with pytest.raises(UnauthorizedError, match="the stack config equinix:authToken"):
        client(metal_emulator, token="tok-SECRET-wrong").reset_password()
    with pytest.raises(InvalidRequestError) as caught:
        client(metal_emulator).create_password_reset_token("not-an-email")
    assert caught.value.messages


def test_errors_carry_their_operation_and_ambiguity(metal_emulator: Emulator) -> None:
    """Callers read what failed, and whether it may have taken effect, from fields, not names."""
    with pytest.raises(UnauthorizedError) as refused:
        client(metal_emulator, token="not-the-token").create_password_reset_token("a@example.com")
    assert refused.value.operation is CREATE_TOKEN
    assert refused.value.ambiguous is False

    metal_emulator.faults.set(rate=1.0, status=502)
    with pytest.raises(AmbiguousOutcomeError) as failed:
        client(metal_emulator).reset_password()
    assert failed.value.operation is RESET_PASSWORD
    assert failed.value.ambiguous is True
    assert RESET_PASSWORD.if_ambiguous in str(failed.value)

"""Tokens and passwords never reach a log line, an exception, a traceback, a repr or the pickle.

Stands in for the engine: the server's `_abort_with_traceback` is mimicked by formatting the
traceback exactly as it does (`traceback.format_exc()`); tests/protocol checks the real one.
"""

from __future__ import annotations

import base64
import logging
import pickle
import traceback
from collections.abc import Callable
from typing import Any

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_metal_reset.emulator import DEV_TOKEN, DEV_USER, Emulator
from pulumi_metal_reset.provider import PasswordResetTokenProvider, _turn
from pulumi_metal_reset.settings import connection_for

from .conftest import DirectStack, make_provider

EMAIL = "ops@example.com"


def engine_traceback(call: Callable[[], Any]) -> str:
    """What the dynamic-provider server sends back to the engine when `call` raises."""
    try:
        call()
    except Exception:
        return traceback.format_exc()
    raise AssertionError("the call did not fail")


def test_configured_provider_pickles_without_its_token(emulator: Emulator) -> None:
    configured = make_provider({"equinix:authToken": DEV_TOKEN, "equinix:endpoint": emulator.url})
    for raw in (
        base64.b64decode(serialize_provider(configured)),
        pickle.dumps(configured),
        dill.dumps(configured, recurse=True),
    ):
        assert DEV_TOKEN.encode() not in raw
        assert emulator.url.encode() not in raw


def test_reprs_hide_the_token() -> None:
    conn = connection_for({}, {"equinix:authToken": DEV_TOKEN}, {})
    assert DEV_TOKEN not in repr(conn)
    assert DEV_TOKEN not in str(conn)
    provider = make_provider({"equinix:authToken": DEV_TOKEN})
    assert DEV_TOKEN not in repr(provider)
    assert DEV_TOKEN not in repr(vars(provider))
    turn = _turn("rid", "rotation_triggers changed", conn)  # what a rotation carries
    assert turn.hide == (DEV_TOKEN,)
    assert DEV_TOKEN not in repr(turn)
    assert DEV_TOKEN not in str(turn)
    assert "rotation_triggers changed" in repr(turn)


def _failing_scenarios(
    emulator: Emulator, deployment: DirectStack
) -> list[tuple[str, Callable[[], Any]]]:
    deployment.up({"email": EMAIL, "rotation_triggers": {"t": "0"}})
    outs = dict(deployment.outputs)

    def rotate(trigger: str) -> Callable[[], Any]:
        def run() -> Any:
            checked = deployment.check({"email": EMAIL, "rotation_triggers": {"t": trigger}})
            return deployment.provider.update(str(deployment.id), dict(outs), checked)

        return run

    def with_faults(script: tuple[str, ...], call: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            emulator.faults.set(script=script)
            return call()

        return run

    bad_token = make_provider({"equinix:endpoint": emulator.url, "equinix:authToken": "tok-x"})
    return [
        ("truncated body holding the password", with_faults(("truncated",), rotate("1"))),
        ("drop after apply", with_faults(("drop",), rotate("2"))),
        ("not json", with_faults(("not-json",), rotate("3"))),
        ("500", with_faults(("500",), rotate("4"))),
        ("429 until retries are spent", with_faults(("429",) * 12, rotate("5"))),
        ("401", lambda: bad_token.create({"email": EMAIL, "rotate_on_create": False})),
        (
            "rotate_on_create",
            with_faults(
                ("ok", "truncated"),
                lambda: deployment.provider.create({"email": EMAIL, "rotate_on_create": True}),
            ),
        ),
    ]


def test_no_secret_in_any_failure_traceback_or_log(
    emulator: Emulator, deployment: DirectStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    scenarios = _failing_scenarios(emulator, deployment)
    for name, call in scenarios:
        text = engine_traceback(call)
        password = emulator.password_of(DEV_USER)
        assert password is not None
        for secret in (DEV_TOKEN, "tok-x", password):
            assert secret not in text, name
        lines = text.strip().splitlines()
        ours = [line for line in lines if "pulumi_metal_reset" in line and 'File "' in line]
        assert len(ours) <= 2, f"{name}: traceback too long:\n{text}"
        assert "During handling of the above exception" not in text, name
        last = lines[-1]
        assert last.startswith("pulumi_metal_reset.errors."), name
        assert last.rstrip().endswith((".", ")")), name
    records = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (DEV_TOKEN, "tok-x", str(emulator.password_of(DEV_USER))):
        assert secret not in records


def test_check_failures_never_carry_the_token(provider: PasswordResetTokenProvider) -> None:
    secret = "tok-SECRET-in-input"
    result = provider.check(
        {}, {"email": "x", "auth_token": 5, "rotate_every": secret, "api_url": secret}
    )
    assert result.failures
    for failure in result.failures:
        assert "auth_token" not in failure.property
        assert secret not in failure.reason

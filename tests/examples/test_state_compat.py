"""A stack whose state 0.1.0 wrote keeps working under this release, through the test engine.

The state file is tests/provider/data/state-0.1.0.json (see make_state_0_1_0.py there); the
program is the one that wrote it. The provider's clock is frozen ten minutes after that run, so
no rotation is due and the test does not depend on today's date. See conftest for what is real.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pulumi_metal_reset.credentials import credential_id
from pulumi_metal_reset.emulator import DEV_TOKEN
from pulumi_metal_reset.testing.engine import TestEngine
from pulumi_metal_reset.testing.faketime import faketime_env

from .conftest import ExampleStack, StackFactory, assert_ok

pytestmark = pytest.mark.faketime

STATE = Path(__file__).resolve().parents[1] / "provider" / "data" / "state-0.1.0.json"
#: 0.1.0's run happened at 2026-11-29T13:36:18Z (its rotation_slot); ten minutes later.
AFTER = faketime_env("2026-11-29 13:46:18") | {"TZ": "UTC"}


def _engine(stack: ExampleStack) -> TestEngine:
    """The stack as 0.1.0 ran it: stack "compat", both tokens from secret config."""
    return TestEngine(
        stack.dir,
        stack="compat",
        config={
            "equinix:endpoint": stack.emulator.url,
            "compat:apiUrl": stack.emulator.url,
            "compat:ticket": "SEC-2",
        },
        secret_config={"equinix:authToken": DEV_TOKEN, "compat:apiToken": DEV_TOKEN},
        state_path=stack.state,
        provider_env=AFTER,
    )


def test_the_first_run_records_credential_id_and_calls_nothing(
    stack_factory: StackFactory,
) -> None:
    stack = stack_factory("compat")
    shutil.copy(STATE, stack.state)

    preview = _engine(stack).preview()
    assert_ok(preview)
    assert preview.ops() == {"scheduled": "update", "plain": "update", "with-token": "update"}
    for name in ("scheduled", "plain"):
        assert preview.step(name).diff_marks == ["+credential_id"]
    assert "+credential_id" in preview.step("with-token").diff_marks
    assert stack.api_calls() == []

    result = _engine(stack).up()
    assert_ok(result)
    assert stack.api_calls() == []
    for name in ("scheduled", "plain", "with-token"):
        assert result.step(name).outputs["credential_id"] == credential_id(DEV_TOKEN)
    scheduled = result.step("scheduled").outputs
    assert scheduled["rotation_count"] == 2
    assert scheduled["rotation_slot"] == "2026-11-29T13:36:18Z"  # 0.1.0's grid is kept
    assert scheduled["new_password"].reveal() == "fixture-password-not-a-secret"

    steady = _engine(stack).up()
    assert_ok(steady)
    assert set(steady.ops().values()) == {"same"}
    assert stack.api_calls() == []

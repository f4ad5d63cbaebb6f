"""The schedule end to end: libfaketime moves the provider process's clock past `rotate_every`.

The product has no clock hook: the whole provider server runs under Debian's libfaketime
(LD_PRELOAD), as it would run after that much real time. See conftest for what else is real.
"""

from __future__ import annotations

import pytest

from pulumi_metal_reset import schedule
from pulumi_metal_reset.emulator import DEV_USER
from pulumi_metal_reset.testing.engine import Secret
from pulumi_metal_reset.testing.faketime import faketime_env

from .conftest import StackFactory, assert_ok

pytestmark = pytest.mark.faketime

DAY = 86400


def test_due_schedule_previews_then_rotates_once(stack_factory: StackFactory) -> None:
    stack = stack_factory("scheduled-rotation")
    first = stack.up()
    assert_ok(first)
    assert stack.api_calls() == ["POST"]
    slot = schedule.parse_timestamp(str(first.outputs["rotationSlot"]))
    assert first.outputs["nextRotationAt"] == schedule.format_timestamp(slot + 30 * DAY)
    assert first.outputs["rotateEvery"] == "P30D"

    later = faketime_env("+31d")
    preview = stack.preview(later)
    assert_ok(preview)
    assert preview.step("ci-bot").op == "update"
    assert preview.step("ci-bot").diffs == ["rotation_slot"]
    assert stack.api_calls() == []

    rotated = stack.up(later)
    assert_ok(rotated)
    assert stack.api_calls() == ["DELETE"]
    assert rotated.outputs["rotationSlot"] == schedule.format_timestamp(slot + 30 * DAY)
    assert rotated.outputs["nextRotationAt"] == schedule.format_timestamp(slot + 60 * DAY)
    password = rotated.outputs["password"]
    assert isinstance(password, Secret)
    assert password.reveal() == stack.emulator.password_of(DEV_USER)

    assert_ok(stack.up(later))
    assert stack.api_calls() == []


def test_missed_periods_rotate_once_and_keep_the_grid(stack_factory: StackFactory) -> None:
    stack = stack_factory("scheduled-rotation")
    first = stack.up()
    assert_ok(first)
    slot = schedule.parse_timestamp(str(first.outputs["rotationSlot"]))
    stack.api_calls()

    late = stack.up(faketime_env("+100d"))  # three periods missed, run late
    assert_ok(late)
    assert stack.api_calls() == ["DELETE"]
    assert late.outputs["rotationSlot"] == schedule.format_timestamp(slot + 90 * DAY)
    assert late.outputs["rotationCount"] == 1


def test_changing_the_period_alone_makes_no_call(stack_factory: StackFactory) -> None:
    stack = stack_factory("scheduled-rotation")
    assert_ok(stack.up())
    stack.api_calls()
    stack.config["rotateEvery"] = "P7D"
    result = stack.up(faketime_env("+10d"))
    assert_ok(result)
    assert result.step("ci-bot").op == "update"
    assert stack.api_calls() == []
    assert result.outputs["rotateEvery"] == "P7D"
    assert result.outputs["rotationCount"] == 0

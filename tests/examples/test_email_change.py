"""A changed email is always an in-place update (issue 8 §5): a POST for the new address, and a
DELETE only when a rotation is due or triggered in the same run, as for any update.

The verdict no longer depends on the day, so `protect` (which blocks replaces and deletes only)
is never involved; the schedule, the count and the recorded password carry over. See conftest
for what is real.
"""

from __future__ import annotations

from pulumi_metal_reset.emulator import DEV_USER
from pulumi_metal_reset.testing.engine import Secret

from .conftest import StackFactory, assert_ok


def test_email_change_alone_is_an_update_that_mails(stack_factory: StackFactory) -> None:
    stack = stack_factory("scheduled-rotation")
    first = stack.up()
    assert_ok(first)
    stack.api_calls()
    stack.config["email"] = "new-owner@example.com"

    preview = stack.preview()
    assert_ok(preview)
    assert preview.step("ci-bot").op == "update"
    assert preview.step("ci-bot").diffs == ["email"]
    assert stack.api_calls() == []

    up = stack.up()
    assert_ok(up)
    assert up.step("ci-bot").op == "update"
    assert stack.emulator.journal[0].query["email"] == ["new-owner@example.com"]
    assert stack.api_calls() == ["POST"]
    assert up.outputs["rotationCount"] == 0
    assert up.outputs["rotationSlot"] == first.outputs["rotationSlot"]  # the schedule carries over
    assert up.outputs["nextRotationAt"] == first.outputs["nextRotationAt"]


def test_email_change_keeps_the_recorded_password(stack_factory: StackFactory) -> None:
    stack = stack_factory("quickstart")
    first = stack.up()
    assert_ok(first)
    stack.api_calls()
    stack.config["email"] = "someone-else@example.com"
    up = stack.up()
    assert_ok(up)
    assert up.step("ops").op == "update"
    assert stack.api_calls() == ["POST"]  # rotate_on_create acts on create only
    assert up.outputs["password"] == first.outputs["password"]
    assert up.outputs["rotationCount"] == 1


def test_email_and_trigger_change_together_update_in_place(stack_factory: StackFactory) -> None:
    stack = stack_factory("scheduled-rotation")
    assert_ok(stack.up())
    stack.api_calls()
    stack.config["email"] = "new-owner@example.com"
    stack.config["incident"] = "INC-7"

    preview = stack.preview()
    assert_ok(preview)
    assert preview.step("ci-bot").op == "update"
    assert preview.step("ci-bot").diffs == ["email", "rotation_triggers"]
    assert stack.api_calls() == []

    up = stack.up()
    assert_ok(up)
    assert up.step("ci-bot").op == "update"
    assert stack.emulator.journal[0].query["email"] == ["new-owner@example.com"]
    assert stack.api_calls() == ["POST", "DELETE"]
    password = up.outputs["password"]
    assert isinstance(password, Secret)
    assert password.reveal() == stack.emulator.password_of(DEV_USER)
    assert up.outputs["rotationCount"] == 1

    again = stack.up()
    assert_ok(again)
    assert again.ops()["ci-bot"] == "same"
    assert stack.api_calls() == []

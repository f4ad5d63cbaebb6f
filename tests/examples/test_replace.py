"""A changed email: a replace (a new POST), or an in-place update when a rotation is also due.

The test engine, like the real one, re-checks a replacement with no old inputs and creates from
that, so a rotation due in the same run could only be lost in a replace; the provider then
updates in place instead. See conftest for what is real.
"""

from __future__ import annotations

from pulumi_metal_reset.emulator import DEV_USER
from pulumi_metal_reset.testing.engine import Secret

from .conftest import StackFactory, assert_ok


def test_email_change_alone_is_a_replace_that_mails(stack_factory: StackFactory) -> None:
    stack = stack_factory("scheduled-rotation")
    assert_ok(stack.up())
    stack.api_calls()
    stack.config["email"] = "new-owner@example.com"

    preview = stack.preview()
    assert_ok(preview)
    assert preview.step("ci-bot").op == "replace"
    assert "email" in preview.step("ci-bot").diffs
    assert stack.api_calls() == []

    up = stack.up()
    assert_ok(up)
    assert up.step("ci-bot").op == "replace"
    assert stack.emulator.journal[0].query["email"] == ["new-owner@example.com"]
    assert stack.api_calls() == ["POST"]
    # A new resource knows no password until it rotates; the SDK drops a None export.
    assert up.outputs.get("password") is None
    assert up.outputs["rotationCount"] == 0


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

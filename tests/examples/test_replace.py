"""A changed email replaces the resource; a rotation due in the same run still happens.

The engine calls only Create for a replacement (create-before-delete), so the provider carries
the due rotation through `check` as `rotation_pending`. See conftest for what is real.
"""

from __future__ import annotations

from pulumi_metal_reset.emulator import DEV_USER
from pulumi_metal_reset.testing.engine import Secret

from .conftest import StackFactory, assert_ok


def test_email_and_trigger_change_together(stack_factory: StackFactory) -> None:
    stack = stack_factory("scheduled-rotation")
    assert_ok(stack.up())
    assert stack.api_calls() == ["POST"]

    stack.config["email"] = "new-owner@example.com"
    stack.config["incident"] = "INC-7"
    preview = stack.preview()
    assert_ok(preview)
    step = preview.step("ci-bot")
    assert step.op == "replace"
    assert {"email", "rotation_triggers", "rotation_pending"} <= set(step.diffs)
    assert stack.api_calls() == []

    up = stack.up()
    assert_ok(up)
    assert up.step("ci-bot").op == "replace"
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


def test_email_change_alone_mails_without_rotating(stack_factory: StackFactory) -> None:
    stack = stack_factory("scheduled-rotation")
    assert_ok(stack.up())
    stack.api_calls()
    stack.config["email"] = "new-owner@example.com"
    up = stack.up()
    assert_ok(up)
    assert up.step("ci-bot").op == "replace"
    assert "rotation_pending" not in up.step("ci-bot").diffs
    assert stack.emulator.journal[0].query["email"] == ["new-owner@example.com"]
    assert stack.api_calls() == ["POST"]
    # A new resource knows no password until it rotates; the SDK drops a None export.
    assert up.outputs.get("password") is None
    assert up.outputs["rotationCount"] == 0

"""The quickstart, run end to end through the test engine (see conftest for what is real)."""

from __future__ import annotations

import json

from pulumi_metal_reset.emulator import DEV_TOKEN, DEV_USER
from pulumi_metal_reset.testing.engine import Secret
from tests.wire import is_wrapped_secret

from .conftest import RESOURCE_TYPE, StackFactory, assert_ok


def test_lifecycle(stack_factory: StackFactory) -> None:
    stack = stack_factory("quickstart")

    preview = stack.preview()
    assert_ok(preview)
    assert preview.step("ops").op == "create"
    assert preview.step("ops").type == RESOURCE_TYPE
    assert stack.api_calls() == []
    assert not {"Create", "Update", "Delete"} & set(preview.provider_methods())
    assert not stack.state.exists()

    up = stack.up()
    assert_ok(up)
    assert stack.api_calls() == ["POST", "DELETE"]
    password = up.outputs["password"]
    assert isinstance(password, Secret)
    assert password.reveal() == stack.emulator.password_of(DEV_USER)
    assert up.outputs["rotationCount"] == 1
    assert "[secret]" in up.render()
    assert str(password.reveal()) not in up.render()

    again = stack.up()
    assert_ok(again)
    assert again.ops() == {"ops": "same"}
    assert stack.api_calls() == []

    stack.config["rotationTicket"] = "SEC-2"
    planned = stack.preview()
    assert_ok(planned)
    assert planned.step("ops").op == "update"
    assert planned.step("ops").diffs == ["rotation_triggers"]
    assert stack.api_calls() == []
    rotated = stack.up()
    assert_ok(rotated)
    assert stack.api_calls() == ["DELETE"]
    new_password = rotated.outputs["password"]
    assert isinstance(new_password, Secret)
    assert new_password.reveal() == stack.emulator.password_of(DEV_USER)
    assert new_password.reveal() != password.reveal()
    # An email change: test_email_change.py, on this program.


def test_state_keeps_secrets_wrapped_and_no_token(stack_factory: StackFactory) -> None:
    stack = stack_factory("quickstart")
    assert_ok(stack.up())
    state = json.loads(stack.state.read_text())
    (token,) = [r for r in state["resources"] if r["type"] == RESOURCE_TYPE]
    assert is_wrapped_secret(token["outputs"]["new_password"])
    assert is_wrapped_secret(state["outputs"]["password"])
    assert DEV_TOKEN not in json.dumps(token["outputs"])
    assert "auth_token" not in token["outputs"]


def test_bad_input_fails_preview_naming_the_property(stack_factory: StackFactory) -> None:
    stack = stack_factory("quickstart")
    stack.config["email"] = "not an email"
    preview = stack.preview()
    assert not preview.ok
    assert preview.error is not None
    assert "property email value" in preview.error
    assert "has a problem: must not contain spaces" in preview.error
    assert stack.api_calls() == []


def test_missing_token_fails_the_preview_with_ups_sentence(stack_factory: StackFactory) -> None:
    """Issue 8 §7: a CI preview gate catches it; the sentence names no property and no value."""
    from pulumi_metal_reset.settings import MISSING_CREDENTIAL

    stack = stack_factory("quickstart")
    engine = stack.engine()
    engine.config.pop("equinix:authToken")
    preview = engine.preview()
    assert not preview.ok
    assert preview.error is not None
    assert preview.error.endswith(f"has a problem: {MISSING_CREDENTIAL}")
    assert "property " not in preview.error
    assert stack.api_calls() == []

    up = engine.up()
    assert not up.ok
    assert up.error is not None
    assert MISSING_CREDENTIAL in up.error
    assert "METAL_AUTH_TOKEN" in up.error
    assert stack.api_calls() == []


def test_a_plain_http_endpoint_fails_the_preview(stack_factory: StackFactory) -> None:
    stack = stack_factory("quickstart")
    stack.config["equinix:endpoint"] = "http://metal.example.com"
    preview = stack.preview()
    assert not preview.ok
    assert preview.error is not None
    assert "The API endpoint from the stack config equinix:endpoint uses plain http://" in (
        preview.error
    )
    assert stack.api_calls() == []

"""`auth_token` as a resource input: a secret in state, never an output, never in an error."""

from __future__ import annotations

import json

from pulumi_metal_reset.emulator import DEV_TOKEN
from tests.wire import is_wrapped_secret

from .conftest import RESOURCE_TYPE, StackFactory, assert_ok


def test_token_input_is_secret_in_state_and_absent_from_outputs(
    stack_factory: StackFactory,
) -> None:
    stack = stack_factory("token-input")
    engine = stack.engine()
    engine.config.pop("equinix:authToken")
    engine.config.pop("equinix:endpoint")
    engine.config["token-input:apiToken"] = DEV_TOKEN  # plain in config: the input wraps it
    engine.config["token-input:apiUrl"] = stack.emulator.url
    result = engine.up()
    assert_ok(result)
    assert stack.api_calls() == ["POST", "DELETE"]
    state = json.loads(stack.state.read_text())
    (token,) = [r for r in state["resources"] if r["type"] == RESOURCE_TYPE]
    assert is_wrapped_secret(token["inputs"]["auth_token"])
    assert "auth_token" not in token["outputs"]
    assert DEV_TOKEN not in json.dumps(token["outputs"])
    assert DEV_TOKEN not in result.render()


def test_empty_token_input_fails_without_naming_or_printing_it(
    stack_factory: StackFactory,
) -> None:
    stack = stack_factory("token-input")
    engine = stack.engine()
    engine.config["token-input:apiToken"] = " "
    engine.config["token-input:apiUrl"] = stack.emulator.url
    result = engine.preview()
    assert not result.ok
    assert result.error is not None
    assert "has a problem: auth_token: is empty or not a string" in result.error
    assert "property auth_token" not in result.error
    assert stack.api_calls() == []

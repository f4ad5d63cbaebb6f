"""The consume-secret example: each rotated password goes to a real `pass` store, never into the
stack's state. The store's settings reach `pass` the way a user's would: through the environment
that runs `pulumi up` (here, the provider process's). See conftest for what is real.
"""

from __future__ import annotations

import json

import pytest

from pulumi_metal_reset.delivery import fingerprint
from pulumi_metal_reset.emulator import DEV_USER
from tests.delivery.store import PasswordStore

from .conftest import RESOURCE_TYPE, StackFactory, assert_ok
from .traces import assert_nowhere


@pytest.mark.secret_store
def test_each_rotation_lands_in_pass_and_nowhere_in_state(
    stack_factory: StackFactory, password_store: PasswordStore
) -> None:
    stack = stack_factory("consume-secret")
    shell = password_store.env  # PASSWORD_STORE_DIR and GNUPGHOME, as set in a user's shell

    up = stack.up(provider_env=shell)
    assert_ok(up)
    assert stack.api_calls() == ["POST", "DELETE"]
    password = stack.emulator.password_of(DEV_USER)
    assert password is not None
    assert password_store.show("metal/ops") == password
    assert up.outputs["delivery"] == "command: pass insert --multiline --force metal/ops"
    state = json.loads(stack.state.read_text())
    (resource,) = [r for r in state["resources"] if r["type"] == RESOURCE_TYPE]
    assert up.outputs["passwordFingerprint"] == fingerprint(password, resource["id"])
    assert_nowhere(stack, up, password)

    stack.config["rotationTicket"] = "SEC-9"
    rotated = stack.up(provider_env=shell)
    assert_ok(rotated)
    assert stack.api_calls() == ["DELETE"]
    assert rotated.step("metal").op == "update"
    current = stack.emulator.password_of(DEV_USER)
    assert current is not None
    assert current != password
    assert password_store.show("metal/ops") == current
    assert rotated.outputs["rotationCount"] == 2
    assert_nowhere(stack, rotated, current)

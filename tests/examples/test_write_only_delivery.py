"""Write-only delivery end to end: the program, the real provider server, the emulator, and a
real secret store (Debian's `pass` over a throw-away GnuPG key) or a real file.

What the user must be able to rely on, proven across engine runs with the emulator's journal:
the password reaches the store and appears nowhere else (state, outputs, engine logs, program
output, provider stderr); each failure ends with its documented outcome; the next `up` converges.
See conftest for what is real.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from pulumi_metal_reset.delivery import fingerprint
from pulumi_metal_reset.emulator import DEV_USER
from pulumi_metal_reset.testing.engine import Secret
from tests.delivery.store import PasswordStore, UnreliableStore
from tests.wire import is_wrapped_secret

from .conftest import RESOURCE_TYPE, ExampleStack, StackFactory, assert_ok
from .traces import assert_nowhere, assert_only_kept_as_secret, traces

PASS_INSERT = ["pass", "insert", "--multiline", "--force", "metal/ops"]
PACK = Path(__file__).resolve().parents[2] / "policy"
MISSING = "metal-reset-no-such-store"


def _current(stack: ExampleStack) -> str:
    password = stack.emulator.password_of(DEV_USER)
    assert password is not None
    return password


def _resource(stack: ExampleStack) -> dict[str, Any]:
    state = json.loads(stack.state.read_text())
    (resource,) = [r for r in state["resources"] if r["type"] == RESOURCE_TYPE]
    return dict(resource)


@pytest.fixture
def store_stack(stack_factory: StackFactory, password_store: PasswordStore) -> ExampleStack:
    stack = stack_factory("write-only")
    stack.config["env"] = json.dumps(password_store.env)
    return stack


@pytest.mark.secret_store
def test_a_rotation_delivers_to_pass_and_leaves_no_trace(
    store_stack: ExampleStack, password_store: PasswordStore
) -> None:
    stack = store_stack
    stack.config["argv"] = json.dumps(PASS_INSERT)

    first = stack.up()
    assert_ok(first)
    assert stack.api_calls() == ["POST", "DELETE"]
    password = _current(stack)
    assert password_store.show("metal/ops") == password
    resource = _resource(stack)
    outputs = first.outputs
    assert outputs["passwordKept"] is False
    assert outputs["fingerprint"] == fingerprint(password, resource["id"])
    assert outputs["delivery"] == (
        "command: pass insert --multiline --force metal/ops (env: GNUPGHOME, PASSWORD_STORE_DIR)"
    )
    assert outputs.get("deliveryPending") is None
    # The inputs echoed, typed as the resource class declares them.
    assert outputs["deliverTo"] == {
        "kind": "command",
        "argv": PASS_INSERT,
        "env": password_store.env,
        "timeout": 60.0,
    }
    assert outputs["storePassword"] is False
    assert resource["outputs"].get("new_password") is None
    assert_nowhere(stack, first, password)

    stack.config["ticket"] = "SEC-2"
    second = stack.up()
    assert_ok(second)
    assert second.step("ops").op == "update"
    assert stack.api_calls() == ["DELETE"]
    rotated = _current(stack)
    assert rotated != password
    assert password_store.show("metal/ops") == rotated
    history = second.outputs["rotationHistory"]
    assert [entry["reason"] for entry in history] == [
        "rotate_on_create",
        "rotation_triggers changed",
    ]
    assert history[-1]["fingerprint"] == second.outputs["fingerprint"]
    assert {entry["delivered_to"] for entry in history} == {second.outputs["delivery"]}
    for secret in (password, rotated):
        assert_nowhere(stack, second, secret)

    again = stack.preview()
    assert_ok(again)
    assert again.step("ops").op == "same"
    assert stack.api_calls() == []


@pytest.mark.secret_store
def test_a_store_that_fails_then_hangs_keeps_the_password_until_it_works(
    store_stack: ExampleStack, password_store: PasswordStore, tmp_path: Path
) -> None:
    stack = store_stack
    store = UnreliableStore.create(tmp_path)
    stack.config["argv"] = json.dumps(store.argv(*PASS_INSERT))

    # 1. The store exits non-zero after the DELETE: the run succeeds, the password is kept in
    #    state as a secret (store_password is false), and a warning says so; the policy pack's
    #    delivery-pending stack policy, run on the outputs the up recorded, reports it too.
    store.set("down")
    # (The example sets no rotate_every, which the pack's mandatory max-rotation-age refuses.)
    failed = stack.up(policy_packs=[PACK], policy_pack_configs=[{"max-rotation-age": "disabled"}])
    assert_ok(failed)
    assert [(v.policy_name, v.enforcement_level) for v in failed.policy_violations] == [
        ("delivery-pending", "advisory")
    ]
    assert "[redacted]" not in failed.policy_violations[0].message
    assert stack.api_calls() == ["POST", "DELETE"]
    password = _current(stack)
    kept = _resource(stack)["outputs"]
    assert is_wrapped_secret(kept["new_password"])
    assert kept["new_password"]["value"] == password
    assert failed.step("ops").outputs["new_password"] == Secret(password)
    assert failed.outputs["passwordKept"] is True
    assert failed.outputs["deliveryPending"].startswith("delivering the password rotated at ")
    assert "kept in this stack's state as the secret output new_password" in (
        failed.provider_output
    )
    assert "exited with status 3: store unavailable, it was given: [redacted]" in (
        failed.provider_output
    )
    assert_only_kept_as_secret(stack, failed, password)

    # 2. The store hangs: each attempt is stopped at its timeout, the run fails, nothing is
    #    called and the state still holds the password.
    store.set("hang")
    stack.config["timeout"] = "0.5"
    hung = stack.up()
    assert not hung.ok
    assert stack.api_calls() == []
    assert hung.error is not None
    assert "did not finish within 0.5 s and was stopped" in hung.error
    assert "it stays there as the secret output new_password and the API password did not " in (
        hung.error
    )
    assert _resource(stack)["outputs"]["new_password"]["value"] == password
    assert_only_kept_as_secret(stack, hung, password)

    # 3. The store works again: the kept password is delivered without a DELETE, then dropped
    #    from state.
    store.set("")
    del stack.config["timeout"]
    repaired = stack.up()
    assert_ok(repaired)
    assert repaired.step("ops").op == "update"
    assert stack.api_calls() == []
    assert password_store.show("metal/ops") == password == _current(stack)
    assert repaired.outputs["passwordKept"] is False
    assert repaired.outputs.get("deliveryPending") is None
    assert repaired.outputs["rotationHistory"][-1]["delivered_to"] == repaired.outputs["delivery"]
    assert_nowhere(stack, repaired, password)

    converged = stack.preview()
    assert_ok(converged)
    assert converged.step("ops").op == "same"


@pytest.mark.secret_store
def test_a_destroy_delivers_a_waiting_password_before_it_forgets_it(
    store_stack: ExampleStack, password_store: PasswordStore, tmp_path: Path
) -> None:
    """While a delivery is pending the state holds the only copy of the API's password, so a
    destroy delivers it first, and fails, keeping the resource, while the store is down."""
    stack = store_stack
    store = UnreliableStore.create(tmp_path)
    stack.config["argv"] = json.dumps(store.argv(*PASS_INSERT))
    store.set("down")
    assert_ok(stack.up())
    password = _current(stack)
    assert stack.api_calls() == ["POST", "DELETE"]

    # A refresh reads nothing from the API and keeps the state, but shows the update the next
    # `up` would make to deliver (the engine's refresh diff is that up's diff, inverted).
    refreshed = stack.refresh()
    assert_ok(refreshed)
    assert refreshed.step("ops").op == "update"
    assert _resource(stack)["outputs"]["new_password"]["value"] == password
    assert stack.api_calls() == []

    refused = stack.destroy()
    assert not refused.ok
    assert refused.error is not None
    assert "The resource was not deleted: the password kept in its state, the API's current" in (
        refused.error
    )
    assert _resource(stack)["outputs"]["new_password"]["value"] == password
    assert stack.api_calls() == []
    assert_only_kept_as_secret(stack, refused, password)

    store.set("")
    destroyed = stack.destroy()
    assert_ok(destroyed)
    assert destroyed.step("ops").op == "delete"
    assert password_store.show("metal/ops") == password == _current(stack)
    assert stack.api_calls() == []
    state = json.loads(stack.state.read_text())
    assert [r for r in state.get("resources") or [] if r["type"] == RESOURCE_TYPE] == []
    # In the clear nowhere; as a secret only in the delete step's record of the old outputs.
    assert traces(stack, destroyed, password) == ([], ["step outputs"])


@pytest.mark.secret_store
def test_a_missing_command_is_refused_before_any_call(
    store_stack: ExampleStack, password_store: PasswordStore
) -> None:
    stack = store_stack
    stack.config["argv"] = json.dumps([MISSING, "insert"])
    refused = stack.up()
    assert not refused.ok
    assert stack.api_calls() == []  # no DELETE, and not even the POST that it would follow
    assert refused.error is not None
    assert "The password was not rotated and the API password did not change: the delivery " in (
        refused.error
    )
    assert f"command {MISSING} was not found on the PATH the provider process sees" in (
        refused.error
    )

    stack.config["argv"] = json.dumps(PASS_INSERT)
    fixed = stack.up()
    assert_ok(fixed)
    assert stack.api_calls() == ["POST", "DELETE"]
    assert password_store.show("metal/ops") == _current(stack)
    assert_nowhere(stack, fixed, _current(stack))


def test_a_file_is_replaced_atomically_with_mode_0600(
    stack_factory: StackFactory, tmp_path: Path
) -> None:
    stack = stack_factory("write-only")
    folder = tmp_path / "secrets"
    folder.mkdir()
    target = folder / "metal-password"
    target.write_text("the previous password")
    target.chmod(0o644)
    replaced = target.stat().st_ino
    stack.config["path"] = str(target)

    first = stack.up()
    assert_ok(first)
    assert stack.api_calls() == ["POST", "DELETE"]
    password = _current(stack)
    assert target.read_text() == password  # exactly, no newline
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.stat().st_ino != replaced  # a new file renamed over the old one
    assert os.listdir(folder) == ["metal-password"]  # no temporary file left behind
    assert first.outputs["delivery"] == f"file: {target} (0600)"
    assert_nowhere(stack, first, password)

    # A folder no file can be created in (the kernel refuses even root): refused before the
    # DELETE, the old file untouched.
    stack.config["path"] = "/sys/metal-password"
    stack.config["ticket"] = "SEC-2"
    refused = stack.up()
    assert not refused.ok
    assert stack.api_calls() == []
    assert refused.error is not None
    assert "the API password did not change: no file can be created in /sys (" in refused.error
    assert target.read_text() == password

    stack.config["path"] = str(target)
    previous = target.stat().st_ino
    rotated = stack.up()
    assert_ok(rotated)
    assert stack.api_calls() == ["DELETE"]
    assert target.read_text() == _current(stack) != password
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.stat().st_ino != previous
    assert_nowhere(stack, rotated, _current(stack))

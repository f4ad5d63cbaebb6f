"""The engine paths where ``PasswordResetToken``'s behaviour depends on the engine's rules.

Real: two PasswordResetToken resources, the real dynamic-provider server, HTTP to the emulator.
Stood in for: the Pulumi CLI and Go engine (the test engine, checked against its source in
docs/engine-fidelity.md), and the Metal API (the emulator).
"""

from __future__ import annotations

import pytest

from pulumi_metal_reset import schedule
from pulumi_metal_reset.emulator import DEV_USER
from pulumi_metal_reset.testing import Secret, assert_secret_only
from pulumi_metal_reset.testing.faketime import faketime_env

from .conftest import TokenStack, raised

pytestmark = pytest.mark.engine

TYPE = "pulumi-python:dynamic/metal:PasswordResetToken"
URN_OPS = f"urn:pulumi:dev::tokens::{TYPE}::ops"


def test_protect_does_not_block_an_email_change(tokens: TokenStack) -> None:
    """protect only blocks deletes and replaces; an email change is an update, so a protected
    token takes it in place: one POST for the new address, no rotation."""
    assert tokens.engine(protect="true").up().ok
    tokens.api_calls()

    preview = tokens.engine(protect="true", email="new-owner@example.com").preview()
    up = tokens.engine(protect="true", email="new-owner@example.com").up()

    assert preview.ok, preview.error
    assert preview.step("ops").op == "update"
    assert up.ok, up.error
    assert up.step("ops").op == "update"
    assert tokens.emulator.journal[0].query["email"] == ["new-owner@example.com"]
    assert tokens.api_calls() == ["POST"]


def test_replace_on_changes_does_not_turn_a_trigger_rotation_into_a_replace(
    tokens: TokenStack,
) -> None:
    """The provider answers Diff definitely and the dynamic-provider server reports no changed
    keys, so ``replace_on_changes`` has nothing to act on: a trigger change stays an update with
    exactly one DELETE (no new token mailed, no rotation lost)."""
    assert tokens.engine(replaceOn="rotation_triggers").up().ok
    tokens.api_calls()

    result = tokens.engine(replaceOn="rotation_triggers", ticket="SEC-2").up()

    assert result.ok, result.error
    assert result.ops() == {"ops": "update", "ci": "same"}
    assert tokens.api_calls() == ["DELETE"]
    assert result.outputs["rotationCount"] == 1


def test_ignore_changes_on_the_schedule(tokens: TokenStack) -> None:
    """``ignore_changes=["rotate_every"]``: the old period is put back before Check, so a new
    period in the program changes nothing and calls nothing."""
    assert tokens.engine(rotateEvery="30d", ignore="rotate_every").up().ok
    tokens.api_calls()

    preview = tokens.engine(rotateEvery="7d", ignore="rotate_every").preview()
    up = tokens.engine(rotateEvery="7d", ignore="rotate_every").up()

    assert preview.ops() == {"ops": "same", "ci": "same"}
    assert up.ok, up.error
    assert up.ops() == {"ops": "same", "ci": "same"}
    assert tokens.api_calls() == []
    assert tokens.engine().load_state().resource("ops").inputs["rotate_every"] == "P30D"


@pytest.mark.faketime
def test_a_scheduled_create_passes_a_strict_up(tokens: TokenStack) -> None:
    """``up --strict``: the preview's plan records the checked inputs, so Check must give the
    update the same ``rotation_slot``: the start of the current UTC day for a 30-day period.
    The provider's clock starts at noon on 2030-01-01, so the slot is that midnight."""
    noon = faketime_env("@2030-01-01 12:00:00")

    result = tokens.engine(noon, rotateEvery="30d").up(strict=True)

    assert result.ok, result.error
    assert result.outputs["rotationSlot"] == "2030-01-01T00:00:00Z"
    assert result.outputs["nextRotationAt"] == "2030-01-31T00:00:00Z"
    assert tokens.api_calls() == ["POST", "POST"]


def test_refresh_keeps_the_password_secret_and_calls_no_api(tokens: TokenStack) -> None:
    """The provider's Read returns the recorded state: refresh is all sames, makes no API call,
    and the password stays a secret (old state's secret-ness, ``additionalSecretOutputs``)."""
    first = tokens.engine(rotateOnCreate="true").up()
    assert first.ok, first.error
    password = tokens.emulator.password_of(DEV_USER)
    assert password is not None
    tokens.api_calls()

    result = tokens.engine(rotateOnCreate="true").refresh()

    assert result.ok, result.error
    assert result.ops() == {"ops": "same", "ci": "same"}
    assert tokens.api_calls() == []
    assert isinstance(result.outputs["password"], Secret)
    assert_secret_only(result, password)


def test_import_fails_before_the_provider_is_reached(tokens: TokenStack) -> None:
    """``pulumi import`` sends Read with no inputs and no state; the dynamic-provider server
    looks for the serialized provider there and fails, so no product code runs."""
    result = tokens.engine().import_resource(TYPE, "adopted", "0b8f0d4e")

    assert not result.ok
    assert result.error is not None
    assert raised(result.error, "KeyError", "'__provider'")
    assert tokens.api_calls() == []


def test_targets_leave_the_other_token_alone(tokens: TokenStack) -> None:
    """``--target``: only the targeted token rotates; the other keeps its state (its trigger
    change waits for the next untargeted up)."""
    assert tokens.engine().up().ok
    tokens.api_calls()

    targeted = tokens.engine(ticket="SEC-2", ciTicket="SEC-2").up(targets=[URN_OPS])

    assert targeted.ok, targeted.error
    assert targeted.ops() == {"ops": "update", "ci": "same"}
    assert tokens.api_calls() == ["DELETE"]
    assert targeted.outputs["ciRotationCount"] == 0

    rest = tokens.engine(ticket="SEC-2", ciTicket="SEC-2").up()

    assert rest.ops() == {"ops": "same", "ci": "update"}
    assert tokens.api_calls() == ["DELETE"]


@pytest.mark.faketime
def test_a_due_rotation_shows_old_and_new_slot_in_the_diff_view(tokens: TokenStack) -> None:
    """``render(diff=True)`` as ``pulumi preview --diff``: the due rotation is the checked input
    ``rotation_slot`` moving one period, shown with its old and new value."""
    first = tokens.engine(rotateEvery="30d").up()
    assert first.ok, first.error
    old_slot = str(first.outputs["rotationSlot"])
    new_slot = schedule.format_timestamp(schedule.parse_timestamp(old_slot) + 30 * 86400)

    preview = tokens.engine(faketime_env("+31d"), rotateEvery="30d").preview()
    text = preview.render(diff=True)

    assert preview.ok, preview.error
    assert f'      ~ rotation_slot    : "{old_slot}" => "{new_slot}"\n' in text
    assert "    ~ pulumi-python:dynamic/metal:PasswordResetToken: (update)\n" in text
    assert tokens.api_calls() == ["POST", "POST"]

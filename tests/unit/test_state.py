"""The typed state: one definition of the checked inputs and of the outputs, and their wire form."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulumi_metal_reset import schedule
from pulumi_metal_reset.state import INPUT_NAMES, OUTPUT_NAMES, CheckedInputs, Outputs

T0 = 1_780_000_000
PERIODS = st.integers(min_value=schedule.MIN_PERIOD_SECONDS, max_value=schedule.MAX_PERIOD_SECONDS)
EPOCHS = st.integers(min_value=0, max_value=4_000_000_000)
TEXT = st.text(max_size=20)


def test_outputs_wire_names_are_the_documented_ones() -> None:
    assert OUTPUT_NAMES == (
        "email",
        "requested_at",
        "rotation_count",
        "rotated_at",
        "rotation_reason",
        "new_password",
        "rotate_every",
        "rotation_triggers",
        "rotation_slot",
        "credential_id",
        "schedule_note",
        "deliver_to",
        "store_password",
        "password_fingerprint",
        "delivered_at",
        "delivery",
        "delivery_pending",
        "rotation_history",
        "next_rotation_at",
    )
    assert tuple(Outputs(email="a@example.com").to_wire()) == OUTPUT_NAMES


def test_checked_inputs_hold_every_input_and_the_derived_ones() -> None:
    names = {f.name for f in dataclasses.fields(CheckedInputs)}
    assert names == set(INPUT_NAMES) | {"rotation_slot", "credential_id"}


def test_every_output_is_declared_on_the_resource_class() -> None:
    """Adding an output is one field in state.py; this keeps the public class in step."""
    from pulumi_metal_reset.resource import PasswordResetToken

    # The SDK reads the class's own annotations to type outputs (rotation_count: int).
    declared = inspect.get_annotations(PasswordResetToken)
    assert set(OUTPUT_NAMES) <= set(declared)


def test_wire_form_of_times_and_periods() -> None:
    outs = Outputs(
        email="a@example.com",
        rotation_count=2,
        rotate_every=30 * 86400,
        rotation_slot=T0,
        rotation_triggers={"t": "1"},
    )
    wire = outs.to_wire()
    assert wire["rotate_every"] == "P30D"
    assert wire["rotation_slot"] == "2026-05-28T20:26:40Z"
    assert wire["next_rotation_at"] == "2026-06-27T20:26:40Z"
    assert wire["rotation_count"] == 2
    assert type(wire["rotation_count"]) is int


def test_numbers_read_back_from_the_wire_are_ints() -> None:
    """The Struct wire carries every number as a double; the count is an int again."""
    outs = Outputs.from_wire({"email": "a@example.com", "rotation_count": 3.0})
    assert outs.rotation_count == 3
    assert type(outs.rotation_count) is int
    assert type(outs.to_wire()["rotation_count"]) is int


def test_absent_and_null_values_take_defaults_and_unknown_keys_are_ignored() -> None:
    outs = Outputs.from_wire(
        {"email": "a@example.com", "new_password": None, "__provider": "blob", "later": 1}
    )
    assert outs == Outputs(email="a@example.com")
    assert outs.rotation_triggers == {}
    assert outs.next_rotation_at is None


def test_unparseable_schedule_values_read_as_absent() -> None:
    outs = Outputs.from_wire(
        {"email": "a@example.com", "rotate_every": "P1M", "rotation_slot": "garbage"}
    )
    assert (outs.rotate_every, outs.rotation_slot) == (None, None)


def test_secrets_stay_out_of_reprs() -> None:
    outs = Outputs(email="a@example.com", new_password="pw-SECRET")
    checked = CheckedInputs(email="a@example.com", auth_token="tok-SECRET")
    assert "pw-SECRET" not in repr(outs)
    assert "tok-SECRET" not in repr(checked)


@given(
    email=TEXT.map(lambda s: s + "@example.com"),
    count=st.integers(min_value=0, max_value=10_000),
    period=st.none() | PERIODS,
    slot=st.none() | EPOCHS,
    triggers=st.dictionaries(TEXT, TEXT, max_size=4),
    password=st.none() | TEXT,
    note=st.none() | TEXT,
)
def test_outputs_round_trip_through_the_wire(
    email: str,
    count: int,
    period: int | None,
    slot: int | None,
    triggers: dict[str, str],
    password: str | None,
    note: str | None,
) -> None:
    outs = Outputs(
        email=email,
        requested_at=schedule.format_timestamp(T0),
        rotation_count=count,
        new_password=password,
        rotate_every=period,
        rotation_slot=slot,
        rotation_triggers=triggers,
        schedule_note=note,
    )
    assert Outputs.from_wire(outs.to_wire()) == outs
    # Pulumi's Struct drops nulls and turns numbers into doubles: still the same state.
    wire = {k: float(v) if type(v) is int else v for k, v in outs.to_wire().items()}
    assert Outputs.from_wire({k: v for k, v in wire.items() if v is not None}) == outs


@pytest.mark.parametrize("token", [None, "tok"])
def test_checked_inputs_round_trip(token: str | None) -> None:
    checked = CheckedInputs(
        email="a@example.com",
        rotate_every=3600,
        rotation_triggers={"a": "b"},
        rotate_on_create=True,
        auth_token=token,
        api_url="http://127.0.0.1:1/metal/v1",
        rotation_slot=T0,
        credential_id="cred-0123456789abcdef",
    )
    assert CheckedInputs.from_wire(checked.to_wire()) == checked
    assert checked.to_wire()["rotate_every"] == "PT1H"

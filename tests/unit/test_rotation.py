"""The rotation decision shared by `check`, `diff` and `update` (pure, no clock)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulumi_metal_reset import schedule
from pulumi_metal_reset.rotation import COMPARED, derive_slot, plan_rotation, reanchor_note
from pulumi_metal_reset.state import DELIVERY_INPUT_NAMES, CheckedInputs, Outputs, Recorded

T0 = 1_780_000_000
DAY = 86400
P30D = 30 * DAY


def _state(**overrides: Any) -> CheckedInputs:
    base = CheckedInputs(
        email="ops@example.com",
        rotation_triggers={"ticket": "SEC-1"},
        rotate_every=P30D,
        rotation_slot=T0,
        credential_id="cred-0123456789abcdef",
    )
    return replace(base, **overrides)


def _slot(old: CheckedInputs | None, period: int, now: int) -> int:
    return derive_slot(old, period, now).start


def test_nothing_changed() -> None:
    plan = plan_rotation(_state(), _state())
    assert (plan.changes, plan.email_changed, plan.rotate, plan.calls_api) == (
        False,
        False,
        False,
        False,
    )


def test_compared_names_what_the_decision_reads_besides_the_delivery_inputs() -> None:
    """`diff` and `check` treat an unknown COMPARED or delivery input as a possible change."""
    recorded = {name for name, member in vars(Recorded).items() if isinstance(member, property)}
    assert set(COMPARED) | set(DELIVERY_INPUT_NAMES) == recorded
    assert not set(COMPARED) & set(DELIVERY_INPUT_NAMES)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("email", "other@example.com"),
        ("rotation_triggers", {"ticket": "SEC-2"}),
        ("rotate_every", 7 * DAY),
        ("rotation_slot", T0 + P30D),
        ("credential_id", "cred-fedcba9876543210"),
    ],
)
def test_a_change_to_any_compared_input_is_a_change(name: str, value: Any) -> None:
    assert name in COMPARED
    assert plan_rotation(_state(), _state(**{name: value})).changes


def test_changed_email_mails_in_place_without_rotating() -> None:
    plan = plan_rotation(_state(), _state(email="other@example.com"))
    assert plan.email_changed
    assert plan.changes
    assert plan.calls_api
    assert not plan.rotate


def test_changed_email_with_changed_triggers_mails_and_rotates() -> None:
    plan = plan_rotation(
        _state(), _state(email="other@example.com", rotation_triggers={"ticket": "SEC-2"})
    )
    assert plan.email_changed
    assert plan.reasons == ("rotation_triggers changed",)


def test_changed_triggers_rotate() -> None:
    plan = plan_rotation(_state(), _state(rotation_triggers={"ticket": "SEC-2"}))
    assert plan.reasons == ("rotation_triggers changed",)
    assert not plan.email_changed


def test_absent_triggers_equal_empty() -> None:
    assert not plan_rotation(_state(rotation_triggers={}), _state(rotation_triggers={})).changes


def test_later_slot_rotates() -> None:
    plan = plan_rotation(_state(), _state(rotation_slot=T0 + 30 * DAY))
    assert plan.rotate
    assert schedule.format_timestamp(T0 + 30 * DAY) in plan.reasons[0]


def test_schedule_change_alone_updates_without_rotating() -> None:
    plan = plan_rotation(_state(), _state(rotate_every=7 * DAY, rotation_slot=T0 + 7 * DAY))
    assert plan.changes
    assert not plan.rotate
    added = plan_rotation(_state(rotate_every=None, rotation_slot=None), _state())
    assert added.changes
    assert not added.rotate


def test_credential_change_alone_updates_without_a_call() -> None:
    plan = plan_rotation(_state(), _state(credential_id="cred-fedcba9876543210"))
    assert plan.changes
    assert not plan.calls_api


def test_token_and_endpoint_alone_are_no_change() -> None:
    news = _state(auth_token="new-token", api_url="http://127.0.0.1:1/metal/v1")
    assert not plan_rotation(_state(), news).changes


def test_outputs_and_inputs_compare_alike() -> None:
    """`diff` compares old outputs, `check` old inputs: the same state gives the same plan."""
    recorded = Outputs(
        email="ops@example.com",
        rotation_triggers={"ticket": "SEC-1"},
        rotate_every=P30D,
        rotation_slot=T0,
        credential_id="cred-0123456789abcdef",
    )
    news = _state(rotation_slot=T0 + P30D)
    assert plan_rotation(recorded, news) == plan_rotation(_state(), news)


def test_derive_slot_starts_new_schedules_on_the_grid() -> None:
    """A new schedule starts at the UTC day, hour or minute, never at the second."""
    now = T0 + 12_345  # 1_780_012_345 is 2026-05-28T23:52:25Z
    assert _slot(None, P30D, now) == now - now % DAY
    assert _slot(None, DAY, now) == now - now % DAY
    assert _slot(None, 12 * 3600, now) == now - now % 3600
    assert _slot(None, 3600, now) == now - now % 3600
    assert _slot(None, 90 * 60, now) == now - now % 3600
    assert _slot(None, 59 * 60, now) == now - now % 60
    assert schedule.format_timestamp(_slot(None, P30D, now)).endswith("T00:00:00Z")


def test_derive_slot_keeps_the_recorded_grid() -> None:
    old = _state()
    assert _slot(old, P30D, T0 + 45 * DAY) == T0 + 30 * DAY
    assert _slot(old, P30D, T0 - 5 * DAY) == T0  # a clock that went back keeps the slot


@given(st.integers(min_value=0, max_value=4_000_000_000), st.sampled_from([60, 3600, DAY, P30D]))
def test_same_inputs_within_a_granule_give_the_same_slot(now: int, period: int) -> None:
    """Update plans compare checked inputs exactly: preview and up within a granule agree."""
    granule = DAY if period >= DAY else 3600 if period >= 3600 else 60
    start = now - now % granule
    assert _slot(None, period, start) == _slot(None, period, start + granule - 1)
    old = _state(rotate_every=period, rotation_slot=start)
    assert _slot(old, period, now) == _slot(old, period, now - (now - start) % period)


@given(st.lists(st.integers(min_value=0, max_value=200 * DAY), min_size=1, max_size=15))
def test_runs_over_time_rotate_once_per_elapsed_boundary(gaps: list[int]) -> None:
    """Simulate check+diff+update over arbitrary run times: rotations == periods entered."""
    recorded = _state()
    now, rotations = T0, 0
    for gap in gaps:
        now += gap
        news = _state(rotation_slot=_slot(recorded, P30D, now))
        rotations += plan_rotation(recorded, news).rotate
        recorded = news
    assert rotations == len({(t - T0) // P30D for t in _cumulative(T0, gaps)} - {0})


def _cumulative(start: int, gaps: list[int]) -> list[int]:
    out, now = [], start
    for gap in gaps:
        now += gap
        out.append(now)
    return out


def test_shortening_the_period_while_overdue_still_rotates() -> None:
    """45 days into a 30-day period the rotation is due; switching to 7 days must not cancel it."""
    old = _state()
    slot = _slot(old, 7 * DAY, T0 + 45 * DAY)
    assert slot == T0 + 30 * DAY + 2 * 7 * DAY
    assert plan_rotation(old, _state(rotate_every=7 * DAY, rotation_slot=slot)).rotate


def test_lengthening_the_period_while_overdue_still_rotates() -> None:
    old = _state()
    slot = _slot(old, 365 * DAY, T0 + 45 * DAY)
    assert slot == T0 + 30 * DAY
    assert plan_rotation(old, _state(rotate_every=365 * DAY, rotation_slot=slot)).rotate


def test_changing_the_period_before_it_is_due_does_not_rotate() -> None:
    """The change itself never rotates; the new period counts from the last slot, so 7 days
    after a slot 10 days old is already past and the next run rotates."""
    old = _state()
    slot = _slot(old, 7 * DAY, T0 + 10 * DAY)
    assert slot == T0
    news = _state(rotate_every=7 * DAY, rotation_slot=slot)
    plan = plan_rotation(old, news)
    assert plan.changes
    assert not plan.rotate
    later = _state(rotate_every=7 * DAY, rotation_slot=_slot(news, 7 * DAY, T0 + 10 * DAY))
    assert plan_rotation(news, later).rotate


def test_lengthening_the_period_pushes_the_next_rotation_past_the_old_schedule() -> None:
    """1d to 30d half a day after the last slot: the next rotation moves from +1d to +30d,
    as the README now says."""
    old = _state(rotate_every=DAY, rotation_slot=T0)
    slot = _slot(old, P30D, T0 + DAY // 2)
    news = _state(rotate_every=P30D, rotation_slot=slot)
    assert not plan_rotation(old, news).rotate
    assert slot == T0
    outputs = Outputs(email="ops@example.com", rotate_every=P30D, rotation_slot=slot)
    assert outputs.next_rotation_at == T0 + P30D
    assert outputs.next_rotation_at > T0 + DAY
    # and no rotation comes at the old schedule's next one
    at_old_next = _state(rotate_every=P30D, rotation_slot=_slot(news, P30D, T0 + DAY + 1))
    assert not plan_rotation(news, at_old_next).rotate


def test_a_slot_far_in_the_future_is_re_anchored() -> None:
    """One run with the clock ten years ahead must not freeze a daily schedule for ten years."""
    future = T0 + 3650 * DAY
    old = _state(rotate_every=DAY, rotation_slot=future)
    derived = derive_slot(old, DAY, T0 + 100)
    assert derived.start == T0 - T0 % DAY
    assert derived.reanchored_from == future
    news = _state(rotate_every=DAY, rotation_slot=derived.start)
    plan = plan_rotation(old, news)
    assert plan.reanchored_from == future
    assert plan.changes
    assert not plan.rotate
    note = reanchor_note(future, derived.start, DAY)
    assert schedule.format_timestamp(future) in note
    assert schedule.format_timestamp(derived.start) in note
    assert note.count(". ") == 0
    assert note.endswith(".")


def test_a_slot_less_than_a_period_ahead_is_kept() -> None:
    """A little clock skew is not a wrong clock: the slot stays, nothing is re-anchored."""
    old = _state(rotate_every=DAY, rotation_slot=T0 + DAY - 1)
    derived = derive_slot(old, DAY, T0)
    assert derived.start == T0 + DAY - 1
    assert derived.reanchored_from is None
    news = _state(rotate_every=DAY, rotation_slot=derived.start)
    assert plan_rotation(old, news).changes is False

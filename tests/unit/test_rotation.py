"""The rotate/replace/update predicate shared by `diff` and `update` (pure, no clock)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pulumi_metal_reset import schedule
from pulumi_metal_reset.inputs import UNKNOWN
from pulumi_metal_reset.rotation import decide, derive_slot, next_rotation_at

T0 = 1_780_000_000
DAY = 86400


def _state(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "email": "ops@example.com",
        "rotation_triggers": {"ticket": "SEC-1"},
        "rotate_every": "P30D",
        "rotation_slot": schedule.format_timestamp(T0),
    }
    return base | overrides


def test_nothing_changed() -> None:
    decision = decide(_state(), _state())
    assert (decision.changes, decision.replace, decision.rotate) == (False, False, False)


def test_changed_email_replaces() -> None:
    decision = decide(_state(), _state(email="other@example.com"))
    assert decision.replace
    assert decision.changes


def test_changed_triggers_rotate() -> None:
    decision = decide(_state(), _state(rotation_triggers={"ticket": "SEC-2"}))
    assert decision.reasons == ("rotation_triggers changed",)
    assert not decision.replace


def test_absent_triggers_equal_empty() -> None:
    assert not decide(_state(rotation_triggers=None), _state(rotation_triggers={})).changes


def test_later_slot_rotates() -> None:
    later = schedule.format_timestamp(T0 + 30 * DAY)
    decision = decide(_state(), _state(rotation_slot=later))
    assert decision.rotate
    assert later in decision.reasons[0]


def test_schedule_change_alone_updates_without_rotating() -> None:
    decision = decide(
        _state(), _state(rotate_every="P7D", rotation_slot=schedule.format_timestamp(T0 + 7 * DAY))
    )
    assert decision.changes
    assert not decision.rotate
    added = decide(_state(rotate_every=None, rotation_slot=None), _state())
    assert added.changes
    assert not added.rotate


def test_token_and_endpoint_alone_are_no_change() -> None:
    news = _state(auth_token="new-token", api_url="http://127.0.0.1:1/metal/v1")
    assert not decide(_state(), news).changes


def test_unknowns_are_a_possible_change() -> None:
    assert decide(_state(), _state(rotation_triggers={"t": UNKNOWN})).changes
    unknown_email = decide(_state(), _state(email=UNKNOWN))
    assert unknown_email.changes
    assert unknown_email.replace


def test_derive_slot() -> None:
    assert derive_slot({}, None, T0) is None
    assert derive_slot({}, UNKNOWN, T0) == UNKNOWN
    assert derive_slot({}, "P30D", T0) == schedule.format_timestamp(T0)
    old = {"rotation_slot": schedule.format_timestamp(T0)}
    assert derive_slot(old, "P30D", T0 + 45 * DAY) == schedule.format_timestamp(T0 + 30 * DAY)
    assert derive_slot({"rotation_slot": "garbage"}, "P30D", T0) == schedule.format_timestamp(T0)


def test_next_rotation_at() -> None:
    assert next_rotation_at(_state()) == schedule.format_timestamp(T0 + 30 * DAY)
    assert next_rotation_at(_state(rotate_every=None, rotation_slot=None)) is None


@given(st.lists(st.integers(min_value=0, max_value=200 * DAY), min_size=1, max_size=15))
def test_runs_over_time_rotate_once_per_elapsed_boundary(gaps: list[int]) -> None:
    """Simulate check+diff+update over arbitrary run times: rotations == periods entered."""
    period = 30 * DAY
    recorded = _state()
    now, rotations = T0, 0
    for gap in gaps:
        now += gap
        news = _state(rotation_slot=derive_slot(recorded, "P30D", now))
        decision = decide(recorded, news)
        rotations += decision.rotate
        recorded = news
    assert rotations == len({(t - T0) // period for t in _cumulative(T0, gaps)} - {0})


def _cumulative(start: int, gaps: list[int]) -> list[int]:
    out, now = [], start
    for gap in gaps:
        now += gap
        out.append(now)
    return out


def test_shortening_the_period_while_overdue_still_rotates() -> None:
    """45 days into a 30-day period the rotation is due; switching to 7 days must not cancel it."""
    old = _state()
    slot = derive_slot(old, "P7D", T0 + 45 * DAY)
    assert slot == schedule.format_timestamp(T0 + 30 * DAY + 2 * 7 * DAY)
    decision = decide(old, _state(rotate_every="P7D", rotation_slot=slot))
    assert decision.rotate


def test_lengthening_the_period_while_overdue_still_rotates() -> None:
    old = _state()
    slot = derive_slot(old, "P365D", T0 + 45 * DAY)
    assert slot == schedule.format_timestamp(T0 + 30 * DAY)
    assert decide(old, _state(rotate_every="P365D", rotation_slot=slot)).rotate


def test_changing_the_period_before_it_is_due_does_not_rotate() -> None:
    """The change itself never rotates; the new period counts from the last slot, so 7 days
    after a slot 10 days old is already past and the next run rotates."""
    old = _state()
    slot = derive_slot(old, "P7D", T0 + 10 * DAY)
    assert slot == schedule.format_timestamp(T0)
    news = _state(rotate_every="P7D", rotation_slot=slot)
    decision = decide(old, news)
    assert decision.changes
    assert not decision.rotate
    assert next_rotation_at(news) == schedule.format_timestamp(T0 + 7 * DAY)
    later = _state(rotate_every="P7D", rotation_slot=derive_slot(news, "P7D", T0 + 10 * DAY))
    assert decide(news, later).rotate

"""Schedule arithmetic: parsing, canonical form and the slot grid (pure functions, no clock)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulumi_metal_reset import schedule

PERIODS = st.integers(min_value=schedule.MIN_PERIOD_SECONDS, max_value=schedule.MAX_PERIOD_SECONDS)
EPOCHS = st.integers(min_value=0, max_value=4_000_000_000)


@pytest.mark.parametrize(
    ("text", "seconds", "canonical"),
    [
        ("90m", 5400, "PT1H30M"),
        ("12h", 43200, "PT12H"),
        ("30d", 2_592_000, "P30D"),
        ("2w", 1_209_600, "P14D"),
        ("1d12h", 129_600, "P1DT12H"),
        ("P30D", 2_592_000, "P30D"),
        ("PT12H", 43200, "PT12H"),
        ("P2W", 1_209_600, "P14D"),
        ("p1dt1m", 86460, "P1DT1M"),
        ("3600", 3600, "PT1H"),
        (3600, 3600, "PT1H"),
        (3600.0, 3600, "PT1H"),
    ],
)
def test_accepted_forms_normalise(text: str | int | float, seconds: int, canonical: str) -> None:
    assert schedule.parse_duration(text) == seconds
    assert schedule.format_duration(seconds) == canonical


@pytest.mark.parametrize("text", ["P1M", "P1Y", "P1Y2D", "1y", "1mo", "2 months", "1M"])
def test_months_and_years_are_refused_with_the_reason(text: str) -> None:
    with pytest.raises(ValueError, match="months or years, which have no fixed length"):
        schedule.parse_duration(text)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("59s", 'shorter than the minimum of 1 minute; give "1m" or more'),
        (59, 'shorter than the minimum of 1 minute; give "1m" or more'),
        ("3651d", 'longer than the maximum of 10 years; give "3650d" or less'),
        (1.5e3 + 0.5, "whole number of seconds; round it, such as 90 rather than 90.5"),
        (float("nan"), "whole number of seconds"),
        (True, "not true or false"),
        ("", "is not a duration"),
        ("PT", "is not a duration"),
        ("soon", "is not a duration"),
        ("-5m", "is not a duration"),
    ],
)
def test_refusals_say_why(value: str | float, reason: str) -> None:
    """Each says what is wrong and, where a number is out of range, what to give instead."""
    with pytest.raises(ValueError, match=re.escape(reason)):
        schedule.parse_duration(value)


@given(PERIODS)
def test_canonical_form_round_trips(seconds: int) -> None:
    text = schedule.format_duration(seconds)
    assert schedule.parse_duration(text) == seconds
    assert schedule.format_duration(schedule.parse_duration(text)) == text


@given(st.integers(min_value=1, max_value=521), st.sampled_from(["w", "d", "h", "m"]))
def test_short_and_iso_forms_agree(n: int, unit: str) -> None:
    seconds = n * {"w": 604800, "d": 86400, "h": 3600, "m": 60}[unit]
    if not schedule.MIN_PERIOD_SECONDS <= seconds <= schedule.MAX_PERIOD_SECONDS:
        return
    iso = {"w": f"P{n}W", "d": f"P{n}D", "h": f"PT{n}H", "m": f"PT{n}M"}[unit]
    assert schedule.parse_duration(f"{n}{unit}") == schedule.parse_duration(iso) == seconds


@given(EPOCHS)
def test_timestamps_round_trip(epoch: int) -> None:
    text = schedule.format_timestamp(epoch)
    assert text.endswith("Z")
    assert schedule.parse_timestamp(text) == epoch


def test_parse_timestamp_needs_a_zone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        schedule.parse_timestamp("2026-01-01T00:00:00")


def test_a_new_schedule_starts_on_the_documented_grid() -> None:
    """Issue 8 §2: UTC day for periods of a day or more, hour for an hour or more, else minute."""
    now = schedule.parse_timestamp("2026-11-29T13:36:18Z")
    day = schedule.parse_timestamp("2026-11-29T00:00:00Z")
    hour = schedule.parse_timestamp("2026-11-29T13:00:00Z")
    minute = schedule.parse_timestamp("2026-11-29T13:36:00Z")
    for period, start in ((30 * 86400, day), (86400, day), (86399, hour), (3600, hour)):
        assert schedule.current_slot(None, period, now) == start
    assert schedule.current_slot(None, 3599, now) == minute
    assert schedule.current_slot(None, 60, now) == minute


@given(PERIODS, EPOCHS)
def test_the_first_slot_is_within_one_period_before_now(period: int, now: int) -> None:
    """The granule never exceeds the period, so the first rotation is at most a period away."""
    start = schedule.grid_start(period, now)
    assert start <= now < start + period
    assert schedule.grid_start(period, start) == start


def test_far_ahead_means_more_than_one_period_after_the_granule_ends() -> None:
    hour = 1_800_000_000 - 1_800_000_000 % 3600
    assert not schedule.is_far_ahead(hour + 2 * 3600, 3600, hour + 1000)
    assert schedule.is_far_ahead(hour + 2 * 3600 + 1, 3600, hour + 1000)


@given(PERIODS, EPOCHS, st.integers(min_value=0, max_value=20 * 365 * 86400))
def test_only_a_slot_more_than_a_period_ahead_is_far_ahead(
    period: int, now: int, ahead: int
) -> None:
    if schedule.is_far_ahead(now + ahead, period, now):
        assert ahead > period


@given(PERIODS, EPOCHS, st.integers(min_value=0, max_value=20 * 365 * 86400), st.data())
def test_far_ahead_is_the_same_throughout_a_granule(
    period: int, now: int, ahead: int, data: st.DataObject
) -> None:
    """Preview and up, run moments apart within one day, hour or minute, agree on it."""
    start = schedule.grid_start(period, now)
    granule = 86400 if period >= 86400 else 3600 if period >= 3600 else 60  # as grid_start's
    later = data.draw(st.integers(min_value=start, max_value=start + granule - 1))
    slot = start + ahead
    assert schedule.is_far_ahead(slot, period, now) == schedule.is_far_ahead(slot, period, later)


@given(EPOCHS, PERIODS, st.integers(min_value=0, max_value=10**9))
def test_slot_stays_on_the_grid_and_contains_now(anchor: int, period: int, elapsed: int) -> None:
    """No drift: every slot is anchor + k * period, and the period it starts holds `now`."""
    now = anchor + elapsed
    slot = schedule.current_slot(anchor, period, now)
    assert (slot - anchor) % period == 0
    assert slot <= now < schedule.next_rotation(slot, period)


@given(EPOCHS, PERIODS, st.lists(st.integers(min_value=0, max_value=10**8), max_size=20))
def test_a_late_run_does_not_shift_the_cadence(anchor: int, period: int, gaps: list[int]) -> None:
    """Runs at arbitrary times each re-derive from the last recorded slot; the grid never moves."""
    slot, now = anchor, anchor
    for gap in gaps:
        now += gap
        slot = schedule.current_slot(slot, period, now)
        assert (slot - anchor) % period == 0
        assert slot == schedule.current_slot(anchor, period, now)


@given(EPOCHS, PERIODS, st.integers(min_value=1, max_value=1000))
def test_missed_slots_give_exactly_one_rotation(anchor: int, period: int, missed: int) -> None:
    """After `missed` idle periods one run lands on the latest slot; a second run moves nothing."""
    now = anchor + missed * period + period // 2
    first = schedule.current_slot(anchor, period, now)
    assert first == anchor + missed * period
    assert schedule.current_slot(first, period, now) == first


@given(EPOCHS, PERIODS, st.integers(min_value=1, max_value=10**9))
def test_a_clock_that_goes_back_never_moves_the_slot_back(
    anchor: int, period: int, back: int
) -> None:
    assert schedule.current_slot(anchor, period, anchor - back) == anchor


@given(st.none() | EPOCHS, PERIODS, EPOCHS)
def test_realignment_with_an_unchanged_period_is_the_plain_slot(
    previous: int | None, period: int, now: int
) -> None:
    assert schedule.realigned_slot(previous, period, period, now) == schedule.current_slot(
        previous, period, now
    )


@given(EPOCHS, PERIODS, PERIODS, st.integers(min_value=0, max_value=10**9))
def test_a_period_change_keeps_a_due_rotation_due(
    anchor: int, old_period: int, new_period: int, elapsed: int
) -> None:
    """Due under the old period stays due after a change; not due never becomes due by it."""
    now = anchor + elapsed
    slot = schedule.realigned_slot(anchor, old_period, new_period, now)
    assert schedule.is_due(anchor, old_period, slot) == (elapsed >= old_period)
    if elapsed >= old_period:
        assert slot <= now < slot + new_period
    else:  # the new period counts from the last slot, later or earlier than the old schedule
        assert slot == anchor
        assert schedule.next_rotation(slot, new_period) == anchor + new_period


@given(
    EPOCHS,
    st.lists(st.tuples(st.integers(min_value=0, max_value=10**7), PERIODS), max_size=10),
)
def test_an_overdue_rotation_never_outlives_the_next_run(
    anchor: int, runs: list[tuple[int, int]]
) -> None:
    """Runs at any times, each with any period (changes included): after every run, either the
    next rotation is still ahead, or a run right after it without a change rotates."""
    slot, period, now = anchor, runs[0][1] if runs else 3600, anchor
    for gap, new_period in runs:
        now += gap
        slot, period = schedule.realigned_slot(slot, period, new_period, now), new_period
        if now >= schedule.next_rotation(slot, period):
            assert schedule.is_due(slot, period, schedule.realigned_slot(slot, period, period, now))


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-31T00:00:00Z",
        "2026-01-31t00:00:00z",
        "2026-01-31T00:00:00.123456789Z",
        "2026-01-31T00:00:00.5Z",
        "2026-01-31T01:00:00.000+01:00",
    ],
)
def test_timestamps_in_every_rfc_3339_spelling(text: str) -> None:
    """Pulumi writes nine fractional digits; Python 3.10's parser takes three or six."""
    assert schedule.parse_timestamp(text) == schedule.parse_timestamp("2026-01-31T00:00:00Z")


def test_a_span_may_be_zero_and_a_period_may_not() -> None:
    assert [schedule.parse_span(t) for t in ("0", "0m", "PT0S", "30s")] == [0, 0, 0, 30]
    with pytest.raises(ValueError, match="shorter than the minimum of 1 minute"):
        schedule.parse_duration("0m")

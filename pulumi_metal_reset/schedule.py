"""Schedule arithmetic: pure functions on whole seconds, so slots never drift.

A schedule is a fixed-length period. The rotation *slot* is the start of the current period on a
grid anchored at the first slot ever recorded: `old + max(0, floor((now - old) / period)) * period`.
A run after several missed periods therefore lands on the latest slot and rotates once, and a late
run does not shift the cadence. A new schedule's first slot is the start of the current UTC day,
hour or minute (see `grid_start`), so every result here is a pure function of its arguments and of
the granule `now` falls in: two checks of the same inputs within one granule agree exactly, which
Pulumi's update plans require.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone

__all__ = [
    "MAX_PERIOD_SECONDS",
    "MIN_PERIOD_SECONDS",
    "current_slot",
    "format_duration",
    "format_timestamp",
    "grid_start",
    "is_due",
    "is_far_ahead",
    "next_rotation",
    "parse_duration",
    "parse_timestamp",
    "realigned_slot",
]

MIN_PERIOD_SECONDS = 60
MAX_PERIOD_SECONDS = 3650 * 86400  # ten years of 365 days

_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}

# Hand-written rather than pydantic's timedelta: pydantic silently reads P1M as 30 days, and
# months and years are exactly what must be refused.
_SHORT = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_ISO = re.compile(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")
_ISO_CALENDAR = re.compile(r"P(?:\d+[WD])*\d+[YM](?:\d+[YMWD])*(?:T.*)?")
# In the short form "m" is minutes, so an upper-case "M" (or a word for a month or year) is refused.
_SHORT_CALENDAR = re.compile(r"\d\s*(?:M|[yY]|mo|MO|Mo|months?|years?)")

_FRACTION = re.compile(r"\.(\d+)")

_FORMAT_HINT = 'use a form like "90m", "12h", "30d", "2w", "P30D", "PT12H" or a number of seconds'


def parse_span(value: str | int | float) -> int:
    """A duration in whole seconds, zero included and unbounded (an audit's grace, "0m");
    ValueError with a reason sentence."""
    if isinstance(value, bool):
        raise ValueError(f"must be a duration, not true or false; {_FORMAT_HINT}")
    if isinstance(value, (int, float)):
        return _whole_seconds(value)
    if isinstance(value, str):
        return _parse_text(value.strip())
    raise ValueError(f"must be a duration; {_FORMAT_HINT}")


def parse_duration(value: str | int | float) -> int:
    """Return a period in whole seconds, or raise ValueError with a reason sentence."""
    seconds = parse_span(value)
    if seconds < MIN_PERIOD_SECONDS:
        raise ValueError('is shorter than the minimum of 1 minute; give "1m" or more')
    if seconds > MAX_PERIOD_SECONDS:
        raise ValueError('is longer than the maximum of 10 years; give "3650d" or less')
    return seconds


def _whole_seconds(value: float) -> int:
    if not math.isfinite(value) or value != int(value):
        raise ValueError("must be a whole number of seconds; round it, such as 90 rather than 90.5")
    return int(value)


def _parse_text(text: str) -> int:
    if text.isascii() and text.isdigit():
        return int(text)
    iso = text[:1] in ("P", "p")
    if _ISO_CALENDAR.fullmatch(text.upper()) or (not iso and _SHORT_CALENDAR.search(text)):
        raise ValueError(
            "uses months or years, which have no fixed length; give days instead, "
            'for example "P30D" or "365d"'
        )
    pattern, units = (_ISO, "WDHMS") if iso else (_SHORT, "wdhms")
    match = pattern.fullmatch(text.upper() if iso else text.lower())
    if match and any(match.groups()):
        return sum(
            int(n) * _UNITS[u.lower()] for n, u in zip(match.groups(), units, strict=True) if n
        )
    raise ValueError(f"is not a duration; {_FORMAT_HINT}")


def format_duration(seconds: int) -> str:
    """Canonical ISO 8601 form (weeks shown as days), so equal periods compare equal in a diff."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")


def format_timestamp(epoch_seconds: int) -> str:
    """RFC 3339 in UTC with whole seconds, e.g. 2026-11-29T08:55:20Z."""
    return datetime.fromtimestamp(epoch_seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> int:
    """Epoch seconds of an RFC 3339 timestamp; raise ValueError when it is not one.

    RFC 3339 allows a lower-case `t` and `z`, and any number of fractional digits (Pulumi
    writes nine); Python 3.10's `fromisoformat` takes three or six, so the fraction is given
    six first.
    """
    normal = _FRACTION.sub(lambda m: "." + (m.group(1) + "00000")[:6], text.upper(), count=1)
    parsed = datetime.fromisoformat(normal.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("has no time zone")
    return math.floor(parsed.timestamp())


def grid_start(period: int, now: int) -> int:
    """Where a new schedule starts: the start of the current UTC day for periods of a day or
    more, of the current UTC hour for periods of an hour or more, else of the current minute.

    Coarse on purpose: `check` must return the same slot for the same inputs at preview and at
    up, and a granule no longer than the period keeps the first rotation within one period.
    """
    granule = _granule(period)
    return now - now % granule


def _granule(period: int) -> int:
    return 86400 if period >= 86400 else 3600 if period >= 3600 else 60


def current_slot(previous: int | None, period: int, now: int) -> int:
    """Start of the period containing `now` on the grid anchored at `previous`.

    With no previous slot the grid starts at `grid_start`. A clock that went backwards never
    moves a slot back: the `max(0, …)` keeps the recorded one.
    """
    if previous is None:
        return grid_start(period, now)
    return previous + max(0, (now - previous) // period) * period


def next_rotation(slot: int, period: int) -> int:
    return slot + period


def realigned_slot(previous: int | None, previous_period: int | None, period: int, now: int) -> int:
    """The slot after a run, when the period may have changed since `previous` was recorded.

    With a changed period, a rotation already due under the old one stays due: the old grid is
    advanced to its latest boundary and the new period continues from there. When none was due
    the slot stays put and the new period counts from the last slot: a shorter period brings the
    next rotation forward (due at once if its length has already passed), a longer one pushes it
    back (1d to 30d: the next rotation comes 30 days after the last slot, not 1 day).
    """
    if previous is not None and previous_period is not None and previous_period != period:
        advanced = current_slot(previous, previous_period, now)
        if advanced == previous:
            return previous
        previous = advanced
    return current_slot(previous, period, now)


def is_due(previous: int | None, previous_period: int | None, slot: int | None) -> bool:
    """A rotation is due when the new slot reaches the recorded slot's next rotation."""
    if previous is None or previous_period is None or slot is None:
        return False
    return slot >= next_rotation(previous, previous_period)


def is_far_ahead(slot: int, period: int, now: int) -> bool:
    """True when a recorded slot lies more than one period beyond the end of `now`'s granule
    (so always more than one period ahead of `now`).

    Only a wrong clock records such a slot (a run on a machine years ahead); kept, it would stop
    every rotation until the real clock caught up, so the caller re-anchors it. Measured from
    the granule (`grid_start`), not the second, so that preview and up agree, like every other
    choice `check` makes from the clock.
    """
    return slot > grid_start(period, now) + _granule(period) + period

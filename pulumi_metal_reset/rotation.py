"""When to rotate: pure decisions on recorded state and checked inputs, no clock and no network.

`check` derives the one clock-dependent input, `rotation_slot`; everything here compares values,
so `diff` and `update` agree by construction and `pulumi preview` shows the reason as a changed
input (`~rotation_triggers` or `~rotation_slot`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_metal_reset import schedule
from pulumi_metal_reset.inputs import UNKNOWN, is_unknown

__all__ = ["Decision", "decide", "derive_slot", "next_rotation_at"]

_COMPARED = ("email", "rotation_triggers", "rotate_every", "rotation_slot")


@dataclass(frozen=True)
class Decision:
    replace: bool
    """The email changed: a new token must be requested."""
    reasons: tuple[str, ...]
    """Why the password rotates; empty when it does not."""
    changes: bool
    """Anything to record, rotation or not (a schedule change alone needs no API call)."""

    @property
    def rotate(self) -> bool:
        return bool(self.reasons)


def _slot_seconds(value: Any) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return schedule.parse_timestamp(value)
    except ValueError:
        return None


def _period(value: Any) -> int | None:
    if value is None or is_unknown(value):
        return None
    try:
        return schedule.parse_duration(value)
    except ValueError:
        return None


def derive_slot(old_inputs: Mapping[str, Any], rotate_every: Any, now: int) -> str | None:
    """The `rotation_slot` input: start of the current period, on the grid already recorded."""
    if rotate_every is None:
        return None
    if is_unknown(rotate_every):
        return UNKNOWN
    slot = schedule.realigned_slot(
        _slot_seconds(old_inputs.get("rotation_slot")),
        _period(old_inputs.get("rotate_every")),
        schedule.parse_duration(rotate_every),
        now,
    )
    return schedule.format_timestamp(slot)


def next_rotation_at(news: Mapping[str, Any]) -> str | None:
    slot = _slot_seconds(news.get("rotation_slot"))
    if slot is None or news.get("rotate_every") is None:
        return None
    return schedule.format_timestamp(
        schedule.next_rotation(slot, schedule.parse_duration(news["rotate_every"]))
    )


def decide(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Decision:
    """Compare the recorded state with the new checked inputs.

    The password rotates when the triggers changed or the new slot reached the recorded next
    rotation. A changed `rotate_every` alone re-aligns the grid and never rotates by itself.
    """
    if any(is_unknown(news.get(key)) for key in _COMPARED):
        return Decision(replace=is_unknown(news.get("email")), reasons=(), changes=True)
    reasons: list[str] = []
    if dict(olds.get("rotation_triggers") or {}) != dict(news.get("rotation_triggers") or {}):
        reasons.append("rotation_triggers changed")
    if schedule.is_due(
        _slot_seconds(olds.get("rotation_slot")),
        _period(olds.get("rotate_every")),
        _slot_seconds(news.get("rotation_slot")),
    ):
        reasons.append(f"rotate_every: the period starting {news['rotation_slot']} began")
    replace = olds.get("email") != news.get("email")
    schedule_changed = any(olds.get(k) != news.get(k) for k in ("rotate_every", "rotation_slot"))
    return Decision(
        replace=replace,
        reasons=tuple(reasons),
        changes=replace or bool(reasons) or schedule_changed,
    )

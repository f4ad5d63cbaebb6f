"""When to rotate: pure decisions on recorded state and checked inputs, no clock and no network.

`check` derives the one clock-dependent input, `rotation_slot`; everything here compares typed
values, so `check`, `diff` and `update` agree by construction, and `pulumi preview` shows the
reason as a changed input (`~rotation_triggers` or `~rotation_slot`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, NamedTuple

from pulumi_metal_reset import schedule
from pulumi_metal_reset.state import Recorded

__all__ = ["COMPARED", "RotationPlan", "Slot", "derive_slot", "plan_rotation", "reanchor_note"]

#: The checked inputs `plan_rotation` compares, besides the delivery inputs
#: (`state.DELIVERY_INPUT_NAMES`); any of them unknown is a possible change.
COMPARED: Final = ("email", "rotation_triggers", "rotate_every", "rotation_slot", "credential_id")


@dataclass(frozen=True)
class RotationPlan:
    """What an update must do, and why."""

    email_changed: bool
    """A new token must be mailed (POST), in place: an email change never replaces."""
    reasons: tuple[str, ...]
    """Why the password rotates (DELETE); empty when it does not."""
    changes: bool
    """Anything to record, API call or not (a schedule, credential or delivery-input change
    alone needs none)."""
    reanchored_from: int | None = None
    """The far-future slot that the new slot replaced, when `derive_slot` re-anchored it."""

    @property
    def rotate(self) -> bool:
        return bool(self.reasons)

    @property
    def calls_api(self) -> bool:
        return self.email_changed or self.rotate


class Slot(NamedTuple):
    start: int
    """Start of the current period, epoch seconds."""
    reanchored_from: int | None
    """The recorded slot this one replaced because it lay more than a period ahead, or None."""


def derive_slot(old: Recorded | None, period: int, now: int) -> Slot:
    """The `rotation_slot` input: start of the current period, on the grid already recorded.

    A slot more than one period ahead of `now` can only come from a run under a wrong clock;
    kept, it would stop every rotation until the clock caught up, so the grid restarts at `now`.
    """
    previous = old.rotation_slot if old is not None else None
    previous_period = old.rotate_every if old is not None else None
    if previous is not None and schedule.is_far_ahead(previous, period, now):
        return Slot(schedule.grid_start(period, now), reanchored_from=previous)
    return Slot(schedule.realigned_slot(previous, previous_period, period, now), None)


def plan_rotation(old: Recorded, new: Recorded) -> RotationPlan:
    """Compare the recorded state with the new checked inputs (both fully known).

    The password rotates when the triggers changed or the new slot reached the recorded next
    rotation. A changed `rotate_every` alone re-aligns the grid and never rotates by itself; a
    changed email mails a new token and rotates only when one of those two says so.
    """
    reasons: list[str] = []
    if dict(old.rotation_triggers) != dict(new.rotation_triggers):
        reasons.append("rotation_triggers changed")
    if new.rotation_slot is not None and schedule.is_due(
        old.rotation_slot, old.rotate_every, new.rotation_slot
    ):
        started = schedule.format_timestamp(new.rotation_slot)
        reasons.append(f"rotate_every: the period starting {started} began")
    email_changed = old.email != new.email
    schedule_changed = (old.rotate_every, old.rotation_slot) != (
        new.rotate_every,
        new.rotation_slot,
    )
    reanchored = (
        old.rotation_slot
        if old.rotation_slot is not None
        and new.rotation_slot is not None
        and new.rotation_slot < old.rotation_slot
        else None
    )
    return RotationPlan(
        email_changed=email_changed,
        reasons=tuple(reasons),
        changes=email_changed
        or bool(reasons)
        or schedule_changed
        or old.credential_id != new.credential_id
        or (old.deliver_to, old.store_password) != (new.deliver_to, new.store_password),
        reanchored_from=reanchored,
    )


def reanchor_note(previous: int, slot: int, period: int) -> str:
    """The `schedule_note` output and provider warning for a re-anchored slot: one sentence."""
    return (
        f"rotation_slot was re-anchored from {schedule.format_timestamp(previous)} to "
        f"{schedule.format_timestamp(slot)} because it lay more than one period "
        f"({schedule.format_duration(period)}) ahead of the clock, as a run on a machine whose "
        "clock was wrong leaves it; nothing was rotated for it, and the schedule continues from "
        "the new slot."
    )

"""Never lose a password: the pure decisions and sentences around a delivery.

At every failure one of three things holds, and the run says which in one sentence:

- the API password did not change (the sink's preflight failed, before the DELETE);
- the secret store (the sink) holds the new password;
- the stack's state holds it, as the secret output `new_password`.

A Python dynamic provider records nothing when `create` or `update` raises, so a password
that could not be delivered after the DELETE survives only by being *returned*: in
`new_password`, with `delivery_pending` saying why, and a warning. The next `pulumi up` sees
that in `diff` and delivers it again (`redelivery_reason`); a failure *then* raises, which is
safe, because the state that holds the password is kept as it was.

No clock, no I/O: the callers pass times and results in. See docs/write-only-delivery.md.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_metal_reset.delivery.ledger import (
    fingerprint,
    history_entry,
    mark_delivered,
    record_rotation,
)
from pulumi_metal_reset.unknowns import is_unknown

__all__ = [
    "OUTPUTS",
    "Outcome",
    "Settlement",
    "after_redelivery",
    "after_rotation",
    "kept_in_state",
    "not_started",
    "redelivery_failed",
    "redelivery_reason",
    "stored_password",
    "times",
]

#: The outputs this module computes; every other output belongs to the provider.
OUTPUTS = (
    "new_password",
    "password_fingerprint",
    "delivered_at",
    "delivery",
    "delivery_pending",
    "rotation_history",
)


class Outcome(enum.Enum):
    """Which of the three guarantees holds at the end of a run."""

    API_UNCHANGED = "the API password did not change"
    SINK_HOLDS = "the secret store holds the new password"
    STATE_HOLDS = "the stack's state holds the new password as a secret"


@dataclass(frozen=True)
class Settlement:
    """The delivery outputs to record, the guarantee that holds, and a warning to log if any."""

    outcome: Outcome
    outputs: dict[str, Any] = field(repr=False)
    """May hold the password (`new_password`), so no repr shows it."""
    warning: str | None = None
    rotated_at: str | None = None
    """When the DELETE returned (RFC 3339), for the provider's `rotated_at`; set after one."""


def stored_password(password: str, *, store_password: bool, delivered: bool) -> str | None:
    """The value of `new_password`: dropped only when the user opted out AND the sink has it."""
    return None if delivered and not store_password else password


def times(attempts: int) -> str:
    """How often something was tried, as a sentence says it: "once", "3 times"."""
    return "once" if attempts == 1 else f"{attempts} times"


def not_started(problem: str, remedy: str) -> str:
    """The sentence for a sink that failed its preflight: nothing changed."""
    return (
        f"The password was not rotated and the API password did not change: {problem}; "
        f"{remedy}, then run `pulumi up` again."
    )


def kept_in_state(description: str, attempts: int, cause: str, *, store_password: bool) -> str:
    """The warning for a delivery that failed after the DELETE: the state keeps the password."""
    then = "" if store_password else " and then removes it from state"
    return (
        f"The password was rotated but delivering it to {description} failed "
        f"{times(attempts)} ({cause.rstrip('.')}); it is kept in this stack's state as the "
        f"secret output new_password, and the next `pulumi up` delivers it again{then}."
    )


def redelivery_failed(description: str, problem: str, remedy: str) -> str:
    """The error for a repair that failed: raised, so the state (holding the password) stays."""
    return (
        f"The password kept in this stack's state could not be delivered to {description} "
        f"({problem.rstrip('.')}); it stays there as the secret output new_password and the API "
        f"password did not change; {remedy}, then run `pulumi up` again."
    )


def delete_delivery_failed(description: str, problem: str) -> str:
    """The error for a delete whose waiting password could not be delivered first: raised, so
    the engine keeps the resource. `deliver_to` comes from the state, so only the store can be
    fixed for the delete itself."""
    return (
        "The resource was not deleted: the password kept in its state, the API's current one, "
        f"could not be delivered to {description} ({problem.rstrip('.')}); fix the secret store "
        "and delete it again (deliver_to is read from the state: to change it, put the resource "
        "back in the program with a new one and run `pulumi up` first), or keep the password by "
        "hand (`pulumi stack export --show-secrets`) and drop the resource from the state with "
        "`pulumi state delete`."
    )


def _pending(description: str, at: str) -> str:
    """What `delivery_pending` records: no command output, which the state should not keep."""
    return (
        f"delivering the password rotated at {at} to {description} failed; it is kept in state "
        "as new_password until the next `pulumi up` delivers it"
    )


def after_rotation(
    *,
    password: str,
    resource_id: str,
    at: str,
    reason: str | None,
    slot: str | None,
    store_password: bool,
    history: Any,
    description: str | None,
    delivered_at: str | None = None,
    failure: tuple[int, str] | None = None,
) -> Settlement:
    """The outputs after a DELETE returned `password` at `at`.

    `description` is where it was to go (None without `deliver_to`); `failure` is
    `(attempts, cause)` when every attempt failed, else `delivered_at` says when it arrived.
    """
    mark = fingerprint(password, resource_id)
    delivered = description is not None and failure is None
    entry = history_entry(
        at=at,
        reason=reason,
        slot=slot,
        fingerprint=mark,
        delivered_to=description if delivered else None,
    )
    outputs: dict[str, Any] = {
        "new_password": stored_password(
            password, store_password=store_password, delivered=delivered
        ),
        "password_fingerprint": mark,
        "delivered_at": delivered_at if delivered else None,
        "delivery": description if delivered else None,
        "delivery_pending": None,
        "rotation_history": record_rotation(history, entry),
    }
    if description is None:
        return Settlement(Outcome.STATE_HOLDS, outputs, rotated_at=at)
    if failure is None:
        return Settlement(Outcome.SINK_HOLDS, outputs, rotated_at=at)
    attempts, cause = failure
    outputs["delivery_pending"] = _pending(description, at)
    return Settlement(
        Outcome.STATE_HOLDS,
        outputs,
        kept_in_state(description, attempts, cause, store_password=store_password),
        rotated_at=at,
    )


def after_redelivery(
    *,
    password: str,
    resource_id: str,
    store_password: bool,
    history: Any,
    description: str,
    delivered_at: str,
) -> Settlement:
    """The outputs after the password kept in state reached the sink."""
    mark = fingerprint(password, resource_id)
    return Settlement(
        Outcome.SINK_HOLDS,
        {
            "new_password": stored_password(
                password, store_password=store_password, delivered=True
            ),
            "password_fingerprint": mark,
            "delivered_at": delivered_at,
            "delivery": description,
            "delivery_pending": None,
            "rotation_history": mark_delivered(history, mark, description),
        },
    )


def _where(target: Any) -> Any:
    """What decides where a password goes: everything but the command's timeout."""
    if not isinstance(target, Mapping):
        return target
    return {k: v for k, v in target.items() if k != "timeout"}


def redelivery_reason(olds: Mapping[str, Any], news: Mapping[str, Any]) -> str | None:
    """Why the password kept in state must go to the sink now, with no rotation; else None.

    `olds` are the recorded outputs (which echo `deliver_to` and `store_password`), `news` the
    checked inputs. `diff` reports a change when this is not None, and `update` delivers.
    """
    target = news.get("deliver_to")
    if target is None or is_unknown(target) or is_unknown(news.get("store_password")):
        return None
    if not olds.get("new_password"):
        return None  # nothing kept to deliver; the next rotation goes to the sink
    if olds.get("delivery_pending"):
        return "the last delivery failed"
    if news.get("store_password") is False:
        return "store_password is false, so the password kept in state moves to the secret store"
    if _where(olds.get("deliver_to")) != _where(target):
        return "deliver_to changed, so the password kept in state goes to the new place"
    return None

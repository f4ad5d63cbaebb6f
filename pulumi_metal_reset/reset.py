"""What a rotating create or update does once `rotation.plan_rotation` has decided.

The order that never loses a password: the sink's preflight before any POST or DELETE that a
rotation follows; the DELETE; then the delivery, whose every outcome is *returned* (a dynamic
provider records nothing when a method raises, so a password the sink refused survives only in
the outputs). A password kept in state is delivered by a later update without a DELETE. The
delivery code (`delivery/`) loads on the first rotation, and its sinks and models only for a
resource with `deliver_to`. No Pulumi and no HTTP: the provider passes the DELETE in as
`reset`, and a `warn` callable for what the user must read. See docs/write-only-delivery.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

from pulumi_metal_reset import schedule
from pulumi_metal_reset.errors import MetalApiError, MetalResetError, RotationAfterCreateError
from pulumi_metal_reset.state import Outputs

if TYPE_CHECKING:
    from pulumi_metal_reset.connection import SecretValue
    from pulumi_metal_reset.delivery.outcome import Settlement

__all__ = [
    "Turn",
    "cause",
    "check_sink",
    "delivered_before_delete",
    "redelivery_reason",
    "rotated",
    "rotated_after_mail",
    "settled_without_rotation",
]

Clock = Callable[[], int]


class Turn(NamedTuple):
    """One rotation: what it records besides the API's answer, and how it reports."""

    resource_id: str
    """Keys the password fingerprint."""
    reason: str
    hide: Sequence[str]
    """Secrets (the API token) to scrub from what a delivery command prints."""
    clock: Clock
    warn: Callable[[str], None]
    """Shows a sentence to the user: a delivery that failed after the DELETE."""

    def __repr__(self) -> str:  # `hide` holds the API token in clear
        return (
            f"Turn(resource_id={self.resource_id!r}, reason={self.reason!r}, "
            f"hide=<{len(self.hide)} hidden>, clock={self.clock!r}, warn={self.warn!r})"
        )


def redelivery_reason(olds: Mapping[str, Any], news: Mapping[str, Any]) -> str | None:
    """Why a password kept in state goes to the sink now; None without `deliver_to`.

    `olds` are the recorded outputs, `news` the checked inputs, as `diff` and `update` get them.
    """
    if news.get("deliver_to") is None:
        return None  # no sink: nothing to deliver, and the delivery code stays unloaded
    from pulumi_metal_reset.delivery.outcome import redelivery_reason as reason

    return reason(olds, news)


def check_sink(target: Mapping[str, Any] | None) -> None:
    """The sink's preflight; raises DeliveryError (the API password did not change)."""
    if target is None:
        return
    from pulumi_metal_reset.delivery.lifecycle import check_sink as preflight

    preflight(target)


def rotated(reset: Callable[[], SecretValue], outs: Outputs, turn: Turn) -> Outputs:
    """Preflight, DELETE, deliver. Raises only before the password changed (the preflight, or
    the DELETE's own error, ambiguous or not); every outcome after the DELETE is returned."""
    from pulumi_metal_reset.delivery import lifecycle

    slot = outs.rotation_slot
    settled = lifecycle.rotate(
        reset=reset,
        target=outs.deliver_to,
        resource_id=turn.resource_id,
        reason=turn.reason,
        slot=None if slot is None else schedule.format_timestamp(slot),
        store_password=outs.store_password,
        history=outs.rotation_history,
        clock=turn.clock,
        hide=turn.hide,
    )
    if settled.warning is not None:
        turn.warn(settled.warning)
    return replace(
        outs,
        **settled.outputs,
        rotated_at=settled.rotated_at,
        rotation_count=outs.rotation_count + 1,
        rotation_reason=turn.reason,
    )


def rotated_after_mail(reset: Callable[[], SecretValue], outs: Outputs, turn: Turn) -> Outputs:
    """Rotate right after a POST succeeded; a failure cannot leave half a change recorded.

    A sink that broke since its preflight (run before the POST) is reported as it is: its
    sentence already says that the API password did not change.
    """
    from pulumi_metal_reset.delivery.errors import DeliveryError

    try:
        return rotated(reset, outs, turn)
    except DeliveryError:
        raise
    except MetalResetError as err:
        after = RotationAfterCreateError(
            f"A reset token was mailed to {outs.email}, but the rotation after it failed "
            f"({cause(err)}); Pulumi cannot record a half-done change, so the next "
            "`pulumi up` mails a new token and rotates again."
        )
        after.ambiguous, after.operation = err.ambiguous, err.operation
        raise after from None


def settled_without_rotation(
    resource_id: str,
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    outs: Outputs,
    *,
    hide: Callable[[], Sequence[str]],
    clock: Clock,
) -> Outputs:
    """The delivery outputs of an update that does not rotate: a redelivery, or carried over.

    A failed redelivery raises DeliveryError: the engine then keeps the old state, which still
    holds the password, and the API password did not change.
    """
    if outs.deliver_to is None:
        # Every recorded value carries over; a pending marker clears once `deliver_to` is gone
        # (the password then simply stays in state).
        return replace(outs, delivery_pending=None)
    from pulumi_metal_reset.delivery import outcome

    if outcome.redelivery_reason(olds, news) is None:
        return outs  # `outs` already holds the recorded delivery outputs
    password = outs.new_password
    if password is None:  # redelivery_reason found one; kept for the type checker
        return outs
    settled = _redeliver(resource_id, outs, password, outs.deliver_to, hide=hide, clock=clock)
    return replace(outs, **settled.outputs)


def delivered_before_delete(
    resource_id: str,
    outs: Outputs,
    *,
    superseded: bool,
    hide: Callable[[], Sequence[str]],
    clock: Clock,
    warn: Callable[[str], None],
) -> None:
    """A delete forgets the state, so a password still waiting for its sink goes there first.

    That password is the API's current one, and the state holds its only copy, unless another
    resource rotated the same API user since (`superseded`): then it is stale, and delivering it
    would overwrite the newer one in the store. A failed delivery raises DeliveryError: the
    engine keeps the resource, and its state the password.
    """
    password = outs.new_password
    if outs.delivery_pending is None or password is None or outs.deliver_to is None:
        return  # nothing waits (the delivery code stays unloaded)
    if superseded:
        warn(
            f"The password that the PasswordResetToken mailing {outs.email} kept in its state "
            "for delivery was dropped with it, not delivered: another resource reset the same "
            "API user's password in this run, so it was no longer the API's password."
        )
        return
    _redeliver(resource_id, outs, password, outs.deliver_to, hide=hide, clock=clock, on_delete=True)


def _redeliver(
    resource_id: str,
    outs: Outputs,
    password: str,
    target: Mapping[str, Any],
    *,
    hide: Callable[[], Sequence[str]],
    clock: Clock,
    on_delete: bool = False,
) -> Settlement:
    """The password kept in `outs` to its sink, by an update or a delete (no API call)."""
    from pulumi_metal_reset.delivery import lifecycle

    return lifecycle.redeliver(
        password=password,
        target=target,
        resource_id=resource_id,
        store_password=outs.store_password,
        history=outs.rotation_history,
        clock=clock,
        hide=hide(),
        on_delete=on_delete,
    )


def cause(err: MetalResetError) -> str:
    """A phrase for an error quoted inside another sentence, from its structured fields only.

    It says which outcome holds: a call that certainly failed left the API password unchanged.
    """
    doing = err.operation.doing if err.operation is not None else "the API call"
    status = err.status if isinstance(err, MetalApiError) else None
    answer = f"HTTP {status}" if status is not None else "no usable response"
    if err.ambiguous:
        return f"{doing} failed with {answer}, so it may have taken effect"
    return f"{doing} failed with {answer}, so the API password did not change"

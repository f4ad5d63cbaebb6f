"""The calls the provider makes, in order: `check_sink`, `rotate`, `redeliver`.

Knows nothing of HTTP or Pulumi: the DELETE is a callable (`reset`) that returns the new
password (a SecretStr) or raises; its errors pass through untouched, so an ambiguous DELETE is
handled by the caller as before. Everything after the DELETE returns instead of raising: a
dynamic provider's `update` records nothing when it raises, and the password would be lost.
The sinks and pydantic models load only when a resource has `deliver_to`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pulumi_metal_reset import schedule
from pulumi_metal_reset.connection import SecretValue, reveal
from pulumi_metal_reset.delivery.errors import DeliveryError, DeliveryFailedError, PreflightError
from pulumi_metal_reset.delivery.ledger import describe
from pulumi_metal_reset.delivery.outcome import (
    Outcome,
    Settlement,
    after_redelivery,
    after_rotation,
    delete_delivery_failed,
    not_started,
    redelivery_failed,
    times,
)

if TYPE_CHECKING:
    from pulumi_metal_reset.delivery.models import CommandTarget, FileTarget
    from pulumi_metal_reset.delivery.sinks import RetryPolicy

__all__ = ["check_sink", "redeliver", "rotate"]

Clock = Callable[[], int]


def _now() -> int:
    return int(time.time())


def _model(target: Mapping[str, Any]) -> CommandTarget | FileTarget:
    from pulumi_metal_reset.delivery.models import parse_target

    return parse_target(target)


def _policy(retry: RetryPolicy | None) -> RetryPolicy:
    from pulumi_metal_reset.delivery.sinks import RetryPolicy

    return RetryPolicy() if retry is None else retry


def check_sink(
    target: Mapping[str, Any] | None, *, environ: Mapping[str, str] | None = None
) -> None:
    """Raise DeliveryError (the API password did not change) when the sink cannot work.

    Call it before anything changes: before the DELETE, and before the POST of a create or an
    email change that will rotate, so a broken sink never leaves half a change behind.
    """
    if target is None:
        return
    from pulumi_metal_reset.delivery.sinks import preflight

    problem = None
    try:
        preflight(_model(target), environ)
    except PreflightError as err:
        problem = err
    if problem is not None:
        raise DeliveryError(not_started(problem.problem, problem.remedy), Outcome.API_UNCHANGED)


def rotate(
    *,
    reset: Callable[[], SecretValue | str],
    target: Mapping[str, Any] | None,
    resource_id: str,
    reason: str | None,
    slot: str | None,
    store_password: bool,
    history: Any,
    clock: Clock = _now,
    hide: Sequence[str] = (),
    retry: RetryPolicy | None = None,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Settlement:
    """Preflight, DELETE (`reset`), deliver with retries; never raises after the DELETE.

    Returns the delivery outputs, the guarantee that holds, `rotated_at`, and a warning the
    provider must log when the sink failed (the password is then in `new_password`).
    """
    check_sink(target, environ=environ)
    password = reveal(reset())
    at = schedule.format_timestamp(clock())
    common: dict[str, Any] = {
        "password": password,
        "resource_id": resource_id,
        "at": at,
        "reason": reason,
        "slot": slot,
        "store_password": store_password,
        "history": history,
    }
    if target is None:
        return after_rotation(**common, description=None)
    failure: tuple[int, str] | None = None
    delivered_at = None
    description = "the secret store"
    try:
        from pulumi_metal_reset.delivery.sinks import deliver

        model = _model(target)
        description = describe(model)
        deliver(model, password, hide=hide, retry=_policy(retry), environ=environ, sleep=sleep)
        delivered_at = schedule.format_timestamp(clock())
    except DeliveryFailedError as err:
        failure = (err.attempts, err.cause)
    except Exception as err:  # after the DELETE, anything beats losing the password
        failure = (1, f"an unexpected {type(err).__name__}")
    return after_rotation(
        **common, description=description, delivered_at=delivered_at, failure=failure
    )


def redeliver(
    *,
    password: str,
    target: Mapping[str, Any],
    resource_id: str,
    store_password: bool,
    history: Any,
    clock: Clock = _now,
    hide: Sequence[str] = (),
    retry: RetryPolicy | None = None,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_delete: bool = False,
) -> Settlement:
    """Deliver the password kept in state (`outcome.redelivery_reason` said why, or a delete).

    Raises DeliveryError on failure: nothing changed at the API, and the engine keeps the old
    state, which holds the password, so raising is safe and the next run tries again. A delete's
    sentence says what a delete can do: it reads `deliver_to` from the state, not the program.
    """
    from pulumi_metal_reset.delivery.sinks import deliver, preflight

    model = None
    with contextlib.suppress(ValueError):
        model = _model(target)
    if model is None:
        # A delete reads deliver_to from the state, which a release with stricter checks, or a
        # hand edit, may no longer accept.
        place, problem = "the deliver_to recorded in the state", "it is no longer a valid delivery"
        remedy = "set deliver_to again with deliver.command(...) or deliver.file(...)"
        raise DeliveryError(
            delete_delivery_failed(place, problem)
            if on_delete
            else redelivery_failed(place, problem, remedy),
            Outcome.STATE_HOLDS,
        )
    description = describe(model)
    message = None
    try:
        preflight(model, environ)
        deliver(model, password, hide=hide, retry=_policy(retry), environ=environ, sleep=sleep)
    except PreflightError as err:
        message = (
            delete_delivery_failed(description, err.problem)
            if on_delete
            else redelivery_failed(description, err.problem, err.remedy)
        )
    except DeliveryFailedError as err:
        problem = f"failed {times(err.attempts)}: {err.cause}"
        message = (
            delete_delivery_failed(description, problem)
            if on_delete
            else redelivery_failed(description, problem, "fix the secret store or deliver_to")
        )
    if message is not None:
        raise DeliveryError(message, Outcome.STATE_HOLDS)
    return after_redelivery(
        password=password,
        resource_id=resource_id,
        store_password=store_password,
        history=history,
        description=description,
        delivered_at=schedule.format_timestamp(clock()),
    )

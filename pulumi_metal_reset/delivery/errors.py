"""Delivery failures: one clean sentence each, never holding the password or a token.

Subclasses of `MetalResetError`, so one `except` still catches every failure of this package.
Messages are built from fixed text, the sink's description and scrubbed command output only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pulumi_metal_reset.delivery.outcome import times
from pulumi_metal_reset.errors import MetalResetError

if TYPE_CHECKING:
    from pulumi_metal_reset.delivery.outcome import Outcome

__all__ = ["DeliveryError", "DeliveryFailedError", "PreflightError"]


class DeliveryError(MetalResetError):
    """A delivery failure as the user meets it: one sentence, and which guarantee holds."""

    #: Which guarantee holds (see `outcome.Outcome`), when the sentence states one.
    outcome: Outcome | None = None

    def __init__(self, message: str, outcome: Outcome | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome


class PreflightError(DeliveryError):
    """The sink cannot work; raised before the password changes (before the DELETE).

    `problem` says what is wrong (a clause), `remedy` what to do (an imperative clause); the
    message joins them, and the provider may re-word the outcome around them.
    """

    def __init__(self, problem: str, remedy: str) -> None:
        super().__init__(f"{problem[:1].upper()}{problem[1:]}; {remedy}.")
        self.problem = problem
        self.remedy = remedy


class DeliveryFailedError(DeliveryError):
    """Every attempt to hand the password to the sink failed.

    `cause` describes the last attempt (scrubbed, one line); `attempts` counts them.
    """

    def __init__(self, description: str, attempts: int, cause: str) -> None:
        super().__init__(
            f"Delivering the password to {description} failed {times(attempts)}: "
            f"{cause.rstrip('.')}."
        )
        self.description = description
        self.attempts = attempts
        self.cause = cause

"""The exceptions a user can meet, one clear sentence each.

Every message says what went wrong, where the value came from and what to do. No message ever
holds an API token or a password: callers build messages from fixed text and sources, never from
response bodies they have not parsed.

The hierarchy (`.ambiguous` is true on the Ambiguous* branch: the request may have taken effect):

* MetalResetError
  + ConfigurationError             - a setting is missing or invalid; nothing was sent
  + MetalApiError                  - the API was called (`.operation`, `.status`)
  | + UnauthorizedError            - 401 or 403
  | + InvalidRequestError          - 422 (`.messages`)
  | + RateLimitedError             - 429 after the retries
  | + ServerError                  - 503 after the retries, or 501
  | | + AmbiguousServerError       - any other 5xx
  | + NetworkError                 - nothing usable came back; nothing was sent
  | | + AmbiguousNetworkError      - a read timeout or a drop after the request was sent
  | + AmbiguousOutcomeError        - the base of the three Ambiguous* classes
  | + UnexpectedResponseError      - an undocumented answer; its body is never echoed
  |   + AmbiguousResponseError     - a 2xx to the DELETE without a readable new password
  + RotationAfterCreateError       - a token was mailed, the rotation after it failed
  + SharedCredentialError          - a second rotation of one API user in one run
  + delivery.errors.DeliveryError  - write-only delivery (`.outcome`: which guarantee holds)
    + PreflightError               - the sink cannot work; raised before the DELETE
    + DeliveryFailedError          - every attempt to hand over the password failed
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pulumi_metal_reset.operations import Operation

__all__ = [
    "AmbiguousNetworkError",
    "AmbiguousOutcomeError",
    "AmbiguousResponseError",
    "AmbiguousServerError",
    "ConfigurationError",
    "InvalidRequestError",
    "MetalApiError",
    "MetalResetError",
    "NetworkError",
    "RateLimitedError",
    "RotationAfterCreateError",
    "ServerError",
    "SharedCredentialError",
    "UnauthorizedError",
    "UnexpectedResponseError",
]


class MetalResetError(Exception):
    """Base class: catch this to handle every failure of this package."""

    #: True when the request may have taken effect although it failed (see AmbiguousOutcomeError).
    ambiguous: bool = False
    #: The API call that failed, when one was made or tried.
    operation: Operation | None = None


class ConfigurationError(MetalResetError):
    """A setting is missing or invalid; no request was sent."""


class MetalApiError(MetalResetError):
    """The API was reached, or was tried, and the call did not succeed."""

    #: HTTP status, when a response arrived.
    status: int | None = None

    def __init__(
        self, message: str, *, status: int | None = None, operation: Operation | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.operation = operation


class UnauthorizedError(MetalApiError):
    """401: the API token was refused."""


class InvalidRequestError(MetalApiError):
    """422: the API refused the request; `messages` holds what it said."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 422,
        operation: Operation | None = None,
        messages: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, status=status, operation=operation)
        self.messages = messages


class RateLimitedError(MetalApiError):
    """429 after every allowed retry was spent."""


class ServerError(MetalApiError):
    """5xx from the API."""


class NetworkError(MetalApiError):
    """No usable response arrived (refused connection, TLS failure, timeout, dropped connection)."""


class AmbiguousOutcomeError(MetalApiError):
    """The request may or may not have taken effect; catch this to detect that case by cause.

    Never retried automatically: a repeated DELETE would reset the password again and a repeated
    POST would mail a second token.
    """

    ambiguous = True


class AmbiguousServerError(ServerError, AmbiguousOutcomeError):
    """A 5xx other than 503 (and 501): the server may have applied the request before failing."""


class AmbiguousNetworkError(NetworkError, AmbiguousOutcomeError):
    """A read timeout or a connection dropped after the request was sent."""


class UnexpectedResponseError(MetalApiError):
    """The API answered with something other than the documented shape; the body is never echoed."""


class AmbiguousResponseError(UnexpectedResponseError, AmbiguousOutcomeError):
    """The API answered the password reset with a 2xx but no readable new password: the reset
    may have taken effect (a 2xx accepts it), and then the password it set is lost."""


class RotationAfterCreateError(MetalResetError):
    """A token was mailed, but the rotation right after it failed (`rotate_on_create`, or an
    email change made in place with a rotation due).

    A dynamic provider cannot record half a change, so the next run mails again.
    """


class SharedCredentialError(MetalResetError):
    """Two resources in one run would rotate the password of the same API user; the second is
    stopped before any request, since its reset would make the first one's password stale."""

"""What an answer or a transport failure means: pure functions from what happened to a result
or to one of the exceptions in `errors`, with its one sentence.

Kept apart from sending, as httpx keeps status errors with its response model and maps transport
errors in its transport: each rule here can be read, and tested, without a socket. The caller
raises what these return, `from None`.

No message quotes a response body, a URL query or an exception's text; the one exception is a
422's `errors` strings, scrubbed of the token and cut short. The sentences say what happened,
where the offending value came from (`Connection.*_source`) and what to do, and whether the
request may have taken effect (`Operation.if_ambiguous`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.exceptions import ProxyError as Urllib3ProxyError
from urllib3.exceptions import SSLError as Urllib3SSLError

from pulumi_metal_reset.errors import (
    AmbiguousNetworkError,
    AmbiguousResponseError,
    AmbiguousServerError,
    InvalidRequestError,
    MetalApiError,
    NetworkError,
    RateLimitedError,
    ServerError,
    UnauthorizedError,
    UnexpectedResponseError,
)
from pulumi_metal_reset.operations import CREATE_TOKEN, RESET_PASSWORD, Operation

if TYPE_CHECKING:
    from pulumi_metal_reset.api_models import NewPassword
    from pulumi_metal_reset.connection import Connection

__all__ = ["created", "new_password", "status_error", "transport_error"]

#: Each API message quoted in an InvalidRequestError is cut to this length.
MAX_API_MESSAGE_CHARS: Final = 200
#: What requests raises while it builds a request, before any socket (InvalidProxyURL is an
#: InvalidURL; InvalidSchema is also a socks proxy without PySocks). Not InvalidHeader: requests
#: also raises it for an answer's malformed headers, after the request was sent.
_UNBUILT: Final = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.URLRequired,
)


def created(status: int, body: bytes | None, conn: Connection) -> MetalApiError | None:
    """The POST's answer: None for any 2xx (the spec says 201).

    A 2xx means the server accepted the request; calling it a failure would invite a re-run and
    a second email.
    """
    if 200 <= status < 300:
        return None
    return status_error(CREATE_TOKEN, status, body, conn)


def new_password(status: int, body: bytes | None, conn: Connection) -> NewPassword | MetalApiError:
    """The DELETE's answer: 201 (or 200) with `{"new_password": "<non-empty>"}` is success.

    `body` is None when the connection broke while the body was read.
    """
    # Imported on first use, here and in `api_messages`: a create that succeeds reads no body,
    # so the provider's first create does not build these pydantic models.
    from pulumi_metal_reset import api_models

    op = RESET_PASSWORD
    if status in (200, 201):
        if body is None:
            return AmbiguousNetworkError(
                f"The connection to the Equinix Metal API at {conn.host} broke while the new "
                f"password was being received, {op.if_ambiguous}.",
                status=status,
                operation=op,
            )
        new = api_models.parse_new_password(body)
        if new is None:
            return AmbiguousResponseError(
                f"The Equinix Metal API at {conn.host} answered HTTP {status} to the password "
                "reset without a readable new password (the body is not shown, it may hold "
                f"one), {op.if_ambiguous}.",
                status=status,
                operation=op,
            )
        return new
    if 200 <= status < 300:
        return AmbiguousResponseError(
            f"The Equinix Metal API at {conn.host} answered HTTP {status} instead of 201 to "
            f"the password reset, {op.if_ambiguous}.",
            status=status,
            operation=op,
        )
    return status_error(op, status, body, conn)


def _retries(conn: Connection) -> str:
    return f" after {conn.max_retries} retries" if conn.max_retries else ""


def status_error(op: Operation, status: int, body: bytes | None, conn: Connection) -> MetalApiError:
    """The exception for a status that is not success."""
    doing = op.doing
    if status == 401:
        return UnauthorizedError(
            f"The Equinix Metal API refused the API token from {conn.token_source} "
            f"(HTTP 401), {op.if_refused}; set it to a valid user API key and run again.",
            status=status,
            operation=op,
        )
    if status == 403:
        return UnauthorizedError(
            f"The API token from {conn.token_source} is not allowed to do this (HTTP 403), "
            f"{op.if_refused}; use a user API key (not a project key) with access to the account.",
            status=status,
            operation=op,
        )
    if status == 422:
        messages = api_messages(body, conn)
        said = "; ".join(messages) if messages else "no reason given"
        return InvalidRequestError(
            f"The Equinix Metal API rejected the request for {doing} (HTTP 422: {said}), "
            f"{op.if_refused}; {op.if_rejected} and run again.",
            status=status,
            operation=op,
            messages=messages,
        )
    if status == 429:
        return RateLimitedError(
            f"The Equinix Metal API is still rate-limiting requests (HTTP 429){_retries(conn)}, "
            f"{op.if_refused}; wait a few minutes and run again.",
            status=status,
            operation=op,
        )
    if status == 503:
        return ServerError(
            f"The Equinix Metal API at {conn.host} is unavailable (HTTP 503){_retries(conn)}, "
            f"{op.if_refused}; run again later.",
            status=status,
            operation=op,
        )
    if status == 501:
        return ServerError(
            f"The Equinix Metal API at {conn.host} does not implement the request for "
            f"{doing} (HTTP 501), {op.if_refused}; check the endpoint from {conn.api_url_source}.",
            status=status,
            operation=op,
        )
    if 500 <= status < 600:
        return AmbiguousServerError(
            f"The Equinix Metal API at {conn.host} failed with HTTP {status} while "
            f"{doing}, {op.if_ambiguous}.",
            status=status,
            operation=op,
        )
    if status < 200 or status >= 600 or status == 303:
        # http.client hands on any informational status but 100 (a 103 Early Hints, say) as
        # the answer, and reads 600-999 too; a 303 See Other points at the result of a request
        # the server carried out. Nothing says the request was refused.
        what = (
            "a redirect to the result of a request it carried out"
            if status == 303
            else "not a final HTTP answer"
        )
        return AmbiguousResponseError(
            f"The server at {conn.host} answered the request for {doing} with HTTP {status}, "
            f"{what} (it is not followed, so the token stays with this host), "
            f"{op.if_ambiguous}; check that the endpoint from {conn.api_url_source} is the "
            "Equinix Metal API.",
            status=status,
            operation=op,
        )
    if 300 <= status < 400:
        what = "a redirect, which is not followed so the token stays with this host"
    else:
        what = "a status the API does not document (the body is not shown)"
    return UnexpectedResponseError(
        f"The server at {conn.host} answered the request for {doing} with HTTP {status}, "
        f"{what}, {op.if_refused}; check that the endpoint from {conn.api_url_source} is the "
        "Equinix Metal API.",
        status=status,
        operation=op,
    )


def transport_error(
    op: Operation, exc: requests.RequestException, conn: Connection, ca_variable: str | None
) -> NetworkError:
    """Classify by whether the request can have reached the server; never quote `exc`.

    `ca_variable` names the variable the CA bundle came from (None: certifi's bundle).
    """
    reason: object = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    if isinstance(reason, Urllib3ProxyError):
        reason = reason.original_error
    read_timeout = isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(
        reason, ReadTimeoutError
    )
    never_sent: str | None = None
    retried = False
    if read_timeout:
        never_sent = None
    elif isinstance(exc, requests.exceptions.SSLError) or isinstance(reason, Urllib3SSLError):
        trusted = (
            f"the CA bundle named by {ca_variable}"
            if ca_variable
            else "the default CA bundle (for a private CA set SSL_CERT_FILE or REQUESTS_CA_BUNDLE)"
        )
        never_sent = (
            f"its TLS certificate could not be verified against {trusted} or the TLS "
            "handshake failed"
        )
    elif isinstance(reason, NameResolutionError):
        never_sent, retried = "its host name could not be resolved", True
    elif isinstance(reason, NewConnectionError):
        if isinstance(reason.__cause__, ConnectionRefusedError):
            never_sent, retried = "the connection was refused", True
        else:
            never_sent, retried = "no connection could be opened", True
    elif isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(
        reason, ConnectTimeoutError
    ):
        never_sent = f"the connection timed out after {conn.connect_timeout:g} s"
        retried = True
    elif isinstance(exc, requests.exceptions.ProxyError):
        never_sent = "the proxy could not be reached"
    elif isinstance(exc, _UNBUILT):
        # requests refuses these while it builds the request, before any socket is opened.
        what = (
            "the proxy URL from the environment"
            if isinstance(
                exc, (requests.exceptions.InvalidProxyURL, requests.exceptions.InvalidSchema)
            )
            else "its URL"
        )
        return NetworkError(
            f"Could not send the request for {op.doing} to the Equinix Metal API at "
            f"{conn.host}: requests refused {what} while building it; nothing was sent, so it "
            "is safe to run again once that is corrected.",
            operation=op,
        )
    if never_sent is not None:
        tries = _retries(conn) if retried else ""
        return NetworkError(
            f"Could not reach the Equinix Metal API at {conn.host} from "
            f"{conn.api_url_source}: {never_sent}{tries}; nothing was sent, so it is safe to "
            "run again once the endpoint is reachable.",
            operation=op,
        )
    what = f"sent no answer within {conn.timeout:g} s" if read_timeout else "dropped the connection"
    return AmbiguousNetworkError(
        f"The Equinix Metal API at {conn.host} {what} after the request for {op.doing} was "
        f"sent, {op.if_ambiguous}.",
        operation=op,
    )


def api_messages(body: bytes | None, conn: Connection) -> tuple[str, ...]:
    """The messages of an Error body that are fit to quote (see `clean_api_message`)."""
    if not body:
        return ()
    from pulumi_metal_reset import api_models

    token = conn.token.get_secret_value()
    cleaned = (clean_api_message(m, token) for m in api_models.parse_error_messages(body))
    return tuple(m for m in cleaned if m)


def clean_api_message(message: str, token: str) -> str | None:
    """One API message fit to quote: never one holding the token, single-line, bounded."""
    if token in message:
        return None
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in message).split())
    if not text:
        return None
    if len(text) > MAX_API_MESSAGE_CHARS:
        text = text[: MAX_API_MESSAGE_CHARS - 1] + "…"
    return text

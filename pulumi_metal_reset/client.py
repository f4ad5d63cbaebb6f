"""HTTP client for Equinix Metal's two password-reset calls; knows nothing of Pulumi.

Design, in the order a reviewer asks about it:

* One pooled `requests.Session` per process and retry policy, shared by every client and thread,
  so the provider server's four worker threads reuse keep-alive connections instead of paying a
  TCP (and TLS) handshake per call.
* Retries run inside urllib3's `Retry`, configured so that only what provably did not take effect
  is retried: connection failures before the request was sent, 429 and 503. A read timeout, a
  dropped connection, 500, 502 and 504 may have reset the password or mailed a token, so they
  are never retried and surface as `AmbiguousOutcomeError` subclasses.
* TLS is always verified, against the CA bundle named by REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE or
  SSL_CERT_FILE (read per call, first set wins), else certifi's.
* Every failure is one of the exceptions in `errors`, raised `from None` with one sentence that
  says what happened, where the offending value came from and what to do. No message is built
  from a response body except the scrubbed `errors` strings of a 422; a token or password never
  appears in a message, a repr or a log record.
"""

from __future__ import annotations

import http.cookiejar
import logging
import math
import os
import random
import threading
from collections.abc import Collection, MutableMapping
from itertools import takewhile
from typing import TYPE_CHECKING, Any, Final, SupportsIndex, cast
from urllib.parse import quote, urlsplit

import requests
from pydantic import SecretStr, ValidationError
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.exceptions import ProxyError as Urllib3ProxyError
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.util.retry import Retry

from pulumi_metal_reset import __version__
from pulumi_metal_reset.api_models import ApiErrorBody, NewPassword
from pulumi_metal_reset.errors import (
    AmbiguousNetworkError,
    AmbiguousServerError,
    ConfigurationError,
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
    from urllib3.response import BaseHTTPResponse

    from pulumi_metal_reset.connection import Connection

__all__ = ["POOL_MAXSIZE", "USER_AGENT", "MetalClient"]

_log = logging.getLogger("pulumi_metal_reset.client")

USER_AGENT: Final = f"pulumi-metal-reset/{__version__}"
#: Connections kept per host: twice the provider server's four worker threads.
POOL_MAXSIZE: Final = 8
#: The API's bodies are tiny; anything larger is not the Metal API and is not read further.
_MAX_BODY_BYTES: Final = 1 << 20
#: Each API message quoted in an InvalidRequestError is cut to this length.
_MAX_API_MESSAGE_CHARS: Final = 200
_RESET_PATH: Final = "/reset-password"
_RETRYABLE_STATUSES: Final = frozenset({429, 503})
#: Where a CA bundle may be named, first wins: requests' own order, then OpenSSL's variable.
_CA_BUNDLE_VARIABLES: Final = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


class _Retry(Retry):
    """urllib3's Retry with three changes, each for a reason stated on the method."""

    # 413 is in urllib3's default: a retried 413 can never succeed, so only 429 and 503 here.
    RETRY_AFTER_STATUS_CODES = _RETRYABLE_STATUSES

    def get_backoff_time(self) -> float:
        # urllib3 waits 0 s before the first retry; a rate-limited API needs a pause every time.
        errors = len(list(takewhile(lambda h: h.redirect_location is None, reversed(self.history))))
        if errors == 0:
            return 0.0
        value = self.backoff_factor * 2 ** (errors - 1) + random.random() * self.backoff_jitter
        return float(max(0.0, min(self.backoff_max, value)))

    def parse_retry_after(self, retry_after: str) -> float:
        # `retry_after_max` is an int; backoff_max holds the exact (float) max_retry_wait.
        return min(super().parse_retry_after(retry_after), self.backoff_max)

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        # urllib3 raises on a malformed Retry-After; fall back to the exponential backoff.
        try:
            return super().get_retry_after(response)
        except InvalidHeader:
            return None


def _retry_policy(max_retries: int, max_retry_wait: float) -> Retry:
    """Retry only what did not take effect: connect errors, 429, 503 (NOTES §1 defaults reset)."""
    methods: Collection[str] = frozenset({"POST", "DELETE"})
    return _Retry(
        total=max_retries,
        connect=max_retries,
        status=max_retries,
        read=False,  # re-raise read errors as they are: the request was sent, never re-send it
        other=0,  # e.g. a TLS failure: not retried, reported as a NetworkError
        redirect=False,  # a redirect is reported, never followed: it could carry the token away
        allowed_methods=methods,
        status_forcelist=_RETRYABLE_STATUSES,
        raise_on_status=False,  # the last 429/503 response comes back and is mapped below
        respect_retry_after_header=True,
        retry_after_max=max(1, math.ceil(max_retry_wait)),
        backoff_factor=1.0,  # 1, 2, 4, 8 s ... like terraform-provider-equinix
        backoff_max=max_retry_wait,
        backoff_jitter=0.5,
    )


class _BlockAllCookies(http.cookiejar.DefaultCookiePolicy):
    """An empty allow-list: the API sets no cookies, and a shared jar would be mutable state."""

    def __init__(self) -> None:
        super().__init__(allowed_domains=[])


_sessions: dict[tuple[int, float], requests.Session] = {}
_sessions_lock = threading.Lock()


def _new_session(max_retries: int, max_retry_wait: float) -> requests.Session:
    session = requests.Session()
    session.cookies.set_policy(_BlockAllCookies())
    session.verify = True
    session.trust_env = True  # honour *_PROXY like requests; CA bundles: see _ca_bundle
    adapter = HTTPAdapter(
        pool_connections=4,
        pool_maxsize=POOL_MAXSIZE,
        max_retries=_retry_policy(max_retries, max_retry_wait),
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _shared_session(max_retries: int, max_retry_wait: float) -> requests.Session:
    """The process's pooled session for this retry policy, created once under a lock."""
    key = (max_retries, max_retry_wait)
    session = _sessions.get(key)
    if session is None:
        with _sessions_lock:
            session = _sessions.get(key)
            if session is None:
                session = _sessions[key] = _new_session(max_retries, max_retry_wait)
    return session


def _ca_bundle() -> tuple[str | bool, str | None]:
    """`verify` for this call and the variable it came from, read from the environment now.

    Hand-written because requests reads REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE but ignores
    SSL_CERT_FILE (it uses certifi). Never False: an empty variable means the default bundle.
    """
    for name in _CA_BUNDLE_VARIABLES:
        value = os.environ.get(name)
        if value:
            return value, name
    return True, None


class _TokenAuth(AuthBase):
    """Adds X-Auth-Token per request; as a (truthy) auth object it also stops ~/.netrc lookups."""

    __slots__ = ("_token",)

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["X-Auth-Token"] = self._token.get_secret_value()
        return r

    def __repr__(self) -> str:
        return "_TokenAuth(token=SecretStr('**********'))"


# Loopback endpoints (the emulator) bypass any *_PROXY variable.
def _no_proxies() -> MutableMapping[str, str]:
    """A fresh dict each call, since requests fills it in from the environment.

    requests documents None as "no proxy for this scheme"; its stubs only admit str values.
    """
    return cast("MutableMapping[str, str]", {"http": None, "https": None, "all": None})


def _clean_api_message(message: str, token: str) -> str | None:
    """One API message fit to quote: never one holding the token, single-line, bounded."""
    if token in message:
        return None
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in message).split())
    if not text:
        return None
    if len(text) > _MAX_API_MESSAGE_CHARS:
        text = text[: _MAX_API_MESSAGE_CHARS - 1] + "…"
    return text


class MetalClient:
    """Equinix Metal's password-reset calls, named as in `equinix_metal.PasswordResetTokensApi`.

    Takes a `Connection` that `settings.connection_for` resolved and validated; checks nothing
    again. Cheap to create (no socket is opened until a call); refuses to be pickled so that it
    can never end up in Pulumi state.
    """

    __slots__ = (
        "_api_url",
        "_api_url_source",
        "_auth",
        "_connect_timeout",
        "_host",
        "_loopback",
        "_max_retries",
        "_max_retry_wait",
        "_timeout",
        "_token",
        "_token_source",
    )

    def __init__(self, connection: Connection) -> None:
        self._api_url = connection.api_url
        self._token = connection.token
        self._token_source = connection.token_source
        self._api_url_source = connection.api_url_source
        self._timeout = connection.timeout
        self._connect_timeout = connection.connect_timeout
        self._max_retries = connection.max_retries
        self._max_retry_wait = connection.max_retry_wait
        self._host = connection.host
        self._loopback = connection.loopback
        self._auth = _TokenAuth(connection.token)

    @property
    def api_url(self) -> str:
        """The normalised base URL, ending in /metal/v1."""
        return self._api_url

    def __repr__(self) -> str:
        return (
            f"MetalClient(api_url={self._api_url!r}, token=SecretStr('**********'), "
            f"token_source={self._token_source!r}, timeout={self._timeout}, "
            f"max_retries={self._max_retries}, max_retry_wait={self._max_retry_wait})"
        )

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        raise TypeError(
            "MetalClient holds an API token and must not be pickled; create it where it is used."
        )

    # --- the two API calls -------------------------------------------------------------------

    def create_password_reset_token(self, email: str) -> None:
        """POST /reset-password?email=...: the API mails a reset token to that address.

        Any 2xx is success (the spec says 201): the server accepted the request, and calling it
        a failure would invite a re-run and a second email. Never re-sent once it was sent.
        """
        try:
            email.encode("utf-8")
        except UnicodeEncodeError:
            raise ConfigurationError(
                "The email address contains characters that are not valid text; give a plain "
                "email address."
            ) from None
        query = "?email=" + quote(email, safe="")
        status, body = self._send(CREATE_TOKEN, query)
        if 200 <= status < 300:
            return
        raise self._status_error(CREATE_TOKEN, status, body) from None

    def reset_password(self) -> NewPassword:
        """DELETE /reset-password: the API sets a new random password and returns it once.

        201 (and 200) with `{"new_password": "<non-empty string>"}` is success.
        """
        op = RESET_PASSWORD
        status, body = self._send(op, "")
        if status in (200, 201):
            if body is None:
                raise AmbiguousNetworkError(
                    f"The connection to the Equinix Metal API at {self._host} broke while the new "
                    f"password was being received, {op.if_ambiguous}.",
                    status=status,
                    operation=op,
                ) from None
            try:
                new = NewPassword.model_validate_json(body)
            except ValidationError:
                new = None
            if new is None or not new.new_password.get_secret_value():
                raise UnexpectedResponseError(
                    f"The Equinix Metal API at {self._host} answered HTTP {status} to the password "
                    "reset without a readable new password (the body is not shown, it may hold "
                    f"one), {op.if_ambiguous}.",
                    status=status,
                    operation=op,
                ) from None
            return new
        if 200 <= status < 300:
            raise UnexpectedResponseError(
                f"The Equinix Metal API at {self._host} answered HTTP {status} instead of 201 to "
                f"the password reset, {op.if_ambiguous}.",
                status=status,
                operation=op,
            ) from None
        raise self._status_error(op, status, body) from None

    # --- transport -----------------------------------------------------------------------------

    def _send(self, op: Operation, query: str) -> tuple[int, bytes | None]:
        """Send once through the pooled session; return (status, body or None if it broke)."""
        session = _shared_session(self._max_retries, self._max_retry_wait)
        method = op.method
        url = self._api_url + _RESET_PATH + query
        log_path = urlsplit(self._api_url).path + _RESET_PATH
        verify, ca_variable = _ca_bundle()
        try:
            response = session.request(
                method,
                url,
                headers={"Accept": "application/json", "User-Agent": USER_AGENT},
                auth=self._auth,
                timeout=(self._connect_timeout, self._timeout),
                allow_redirects=False,
                stream=True,
                verify=verify,
                proxies=_no_proxies() if self._loopback else None,
            )
        except requests.RequestException as exc:
            _log.debug("%s %s -> %s", method, log_path, type(exc).__name__)
            raise self._network_error(op, exc, ca_variable) from None
        except OSError:
            # requests raises a bare OSError, before connecting, for a CA path that does not exist.
            if ca_variable is None or os.path.exists(str(verify)):
                raise
            raise ConfigurationError(
                f"The CA bundle named by the environment variable {ca_variable} does not exist; "
                "point it at a PEM file of trusted CA certificates or unset it."
            ) from None
        try:
            body: bytes | None = self._read_body(response)
        except requests.RequestException:
            body = None
        finally:
            response.close()
        _log.debug("%s %s -> %d", method, log_path, response.status_code)
        return response.status_code, body

    @staticmethod
    def _read_body(response: requests.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > _MAX_BODY_BYTES:
                break  # not the Metal API; what was read is enough to fail parsing
        return b"".join(chunks)

    def _network_error(
        self, op: Operation, exc: requests.RequestException, ca_variable: str | None
    ) -> NetworkError:
        """Classify by whether the request can have reached the server; never quote `exc`."""
        reason: object = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        if isinstance(reason, Urllib3ProxyError):
            reason = reason.original_error
        never_sent: str | None = None
        retried = False
        if isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(reason, ReadTimeoutError):
            never_sent = None
        elif isinstance(exc, requests.exceptions.SSLError) or isinstance(reason, Urllib3SSLError):
            trusted = (
                f"the CA bundle named by {ca_variable}"
                if ca_variable
                else "the default CA bundle (for a private CA set SSL_CERT_FILE or "
                "REQUESTS_CA_BUNDLE)"
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
            never_sent = f"the connection timed out after {self._connect_timeout:g} s"
            retried = True
        elif isinstance(exc, requests.exceptions.ProxyError):
            never_sent = "the proxy could not be reached"
        if never_sent is not None:
            tries = f" after {self._max_retries} retries" if retried and self._max_retries else ""
            return NetworkError(
                f"Could not reach the Equinix Metal API at {self._host} from "
                f"{self._api_url_source}: {never_sent}{tries}; nothing was sent, so it is safe to "
                "run again once the endpoint is reachable.",
                operation=op,
            )
        if isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(reason, ReadTimeoutError):
            what = f"sent no answer within {self._timeout:g} s"
        else:
            what = "dropped the connection"
        return AmbiguousNetworkError(
            f"The Equinix Metal API at {self._host} {what} after the request for {op.doing} was "
            f"sent, {op.if_ambiguous}.",
            operation=op,
        )

    def _status_error(self, op: Operation, status: int, body: bytes | None) -> MetalApiError:
        """The exception for a status that is not success; the caller raises it `from None`."""
        doing = op.doing
        tries = f" after {self._max_retries} retries" if self._max_retries else ""
        if status == 401:
            return UnauthorizedError(
                f"The Equinix Metal API refused the API token from {self._token_source} "
                "(HTTP 401); set it to a valid user API key and run again.",
                status=status,
                operation=op,
            )
        if status == 403:
            return UnauthorizedError(
                f"The API token from {self._token_source} is not allowed to do this (HTTP 403); "
                "use a user API key (not a project key) with access to the account.",
                status=status,
                operation=op,
            )
        if status == 422:
            messages = self._api_messages(body)
            said = "; ".join(messages) if messages else "no reason given"
            hint = "check the email address" if op is CREATE_TOKEN else "check the account"
            return InvalidRequestError(
                f"The Equinix Metal API rejected the request for {doing} (HTTP 422: {said}); "
                f"{hint} and run again.",
                status=status,
                operation=op,
                messages=messages,
            )
        if status == 429:
            return RateLimitedError(
                f"The Equinix Metal API is still rate-limiting requests (HTTP 429){tries}; "
                "nothing was changed, so wait a few minutes and run again.",
                status=status,
                operation=op,
            )
        if status == 503:
            return ServerError(
                f"The Equinix Metal API at {self._host} is unavailable (HTTP 503){tries}; nothing "
                "was changed, so run again later.",
                status=status,
                operation=op,
            )
        if status == 501:
            return ServerError(
                f"The Equinix Metal API at {self._host} does not implement the request for "
                f"{doing} (HTTP 501); check the endpoint from {self._api_url_source}.",
                status=status,
                operation=op,
            )
        if 500 <= status < 600:
            return AmbiguousServerError(
                f"The Equinix Metal API at {self._host} failed with HTTP {status} while "
                f"{doing}, {op.if_ambiguous}.",
                status=status,
                operation=op,
            )
        if 300 <= status < 400:
            what = "a redirect, which is not followed so the token stays with this host"
        else:
            what = "a status the API does not document (the body is not shown)"
        return UnexpectedResponseError(
            f"The server at {self._host} answered the request for {doing} with HTTP {status}, "
            f"{what}; check that the endpoint from {self._api_url_source} is the Equinix Metal "
            "API.",
            status=status,
            operation=op,
        )

    def _api_messages(self, body: bytes | None) -> tuple[str, ...]:
        if not body:
            return ()
        try:
            parsed = ApiErrorBody.model_validate_json(body)
        except ValidationError:
            return ()
        token = self._token.get_secret_value()
        cleaned = (_clean_api_message(m, token) for m in parsed.messages())
        return tuple(m for m in cleaned if m)

"""`MetalClient`: sends the two calls and hands what came back to `_outcomes`.

It takes a resolved `Connection` and checks no setting: `settings.connection_for` did that,
once. What a status, a body or a transport failure means is decided in `_outcomes`; this module
only builds the request, sends it once through the pooled transport and reads a bounded body.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any, Final, SupportsIndex
from urllib.parse import quote, urlsplit

import requests
from requests.auth import AuthBase

from pulumi_metal_reset.client import _outcomes, _transport
from pulumi_metal_reset.client._transport import USER_AGENT
from pulumi_metal_reset.endpoint import RESET_PATH
from pulumi_metal_reset.errors import ConfigurationError, MetalApiError
from pulumi_metal_reset.operations import CREATE_TOKEN, RESET_PASSWORD, Operation

if TYPE_CHECKING:
    from pulumi_metal_reset.api_models import NewPassword
    from pulumi_metal_reset.connection import Connection

__all__ = ["USER_AGENT", "MetalClient"]

_log = logging.getLogger("pulumi_metal_reset.client")

#: The API's bodies are tiny; anything larger is not the Metal API and is not read further.
_MAX_BODY_BYTES: Final = 1 << 20


class _TokenAuth(AuthBase):
    """Adds X-Auth-Token per request; as a (truthy) auth object it also stops ~/.netrc lookups."""

    __slots__ = ("_conn",)

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["X-Auth-Token"] = self._conn.token.get_secret_value()
        return r

    def __repr__(self) -> str:
        return "_TokenAuth(token=SecretStr('**********'))"


class MetalClient:
    """Equinix Metal's password-reset calls, named as in `equinix_metal.PasswordResetTokensApi`.

    Takes a `Connection` that `settings.connection_for` resolved and validated. Cheap to create
    (no socket is opened until a call); refuses to be pickled so that it can never end up in
    Pulumi state.
    """

    __slots__ = ("_auth", "_conn", "_path", "_url")

    def __init__(self, connection: Connection) -> None:
        self._conn = connection
        self._auth = _TokenAuth(connection)
        self._url = connection.api_url + RESET_PATH
        self._path = urlsplit(self._url).path

    @property
    def api_url(self) -> str:
        """The base URL, ending in /metal/v1."""
        return self._conn.api_url

    def __repr__(self) -> str:
        conn = self._conn
        return (
            f"MetalClient(api_url={conn.api_url!r}, token=SecretStr('**********'), "
            f"token_source={conn.token_source!r}, timeout={conn.timeout}, "
            f"max_retries={conn.max_retries}, max_retry_wait={conn.max_retry_wait})"
        )

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        raise TypeError(
            "MetalClient holds an API token and must not be pickled; create it where it is used."
        )

    # --- the two API calls -------------------------------------------------------------------

    def create_password_reset_token(self, email: str) -> None:
        """POST /reset-password?email=...: the API mails a reset token to that address.

        Never re-sent once it was sent (see `_transport.retry_policy`).
        """
        try:
            query = "?email=" + quote(email, safe="")
        except UnicodeEncodeError:
            raise ConfigurationError(
                "The email address contains characters that are not valid text; give a plain "
                "email address."
            ) from None
        status, body = self._send(CREATE_TOKEN, query)
        error = _outcomes.created(status, body, self._conn)
        if error is not None:
            raise error from None

    def reset_password(self) -> NewPassword:
        """DELETE /reset-password: the API sets a new random password and returns it once."""
        status, body = self._send(RESET_PASSWORD, "")
        result = _outcomes.new_password(status, body, self._conn)
        if isinstance(result, MetalApiError):
            raise result from None
        return result

    # --- transport -----------------------------------------------------------------------------

    def _send(self, op: Operation, query: str) -> tuple[int, bytes | None]:
        """Send once through the pooled session; return (status, body or None if it broke)."""
        conn = self._conn
        transport = _transport.transport_for(conn)
        try:
            response = transport.send(
                op.method, self._url, query, self._auth, (conn.connect_timeout, conn.timeout)
            )
        except requests.RequestException as exc:
            _log.debug("%s %s -> %s", op.method, self._path, type(exc).__name__)
            raise _outcomes.transport_error(op, exc, conn, transport.ca_variable) from None
        except OSError:
            # requests raises a bare OSError for a CA path that vanished after it was checked.
            ca_variable = transport.ca_variable
            if ca_variable is None or os.path.exists(str(transport.session.verify)):
                raise
            raise _transport.missing_ca_bundle(ca_variable) from None
        try:
            body: bytes | None = _read_body(response)
        except requests.RequestException:
            body = None
        finally:
            response.close()
        _log.debug("%s %s -> %d", op.method, self._path, response.status_code)
        return response.status_code, body


def _read_body(response: requests.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        chunks.append(chunk)
        size += len(chunk)
        if size > _MAX_BODY_BYTES:
            break  # not the Metal API; what was read is enough to fail parsing
    return b"".join(chunks)

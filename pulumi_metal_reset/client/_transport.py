"""The pooled transport: one `requests.Session` per endpoint and retry policy, per process.

* Shared by every client and thread, so the provider server's four worker threads reuse
  keep-alive connections instead of paying a TCP (and TLS) handshake per call.
* Retries run inside urllib3's `Retry`, configured so that only what provably did not take
  effect is retried: connection failures before the request was sent, 429 and 503.
* The environment is read once, when the session for an endpoint is made: the CA bundle
  (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_FILE, first set wins, else certifi's) and the
  proxies (*_PROXY and NO_PROXY, resolved by requests' own `get_environ_proxies`; loopback
  endpoints bypass every proxy). The session then runs with `trust_env=False`, so requests no
  longer re-reads them on every call. A variable changed later in the same process is not seen;
  the provider process lives for one deployment, so that is the deployment's environment.
* A call goes through the adapter the session has mounted for its URL, with the request for
  its method and URL prepared once (`Transport.send`): what `Session.request` would do for these
  calls, minus re-merging the session's settings and re-preparing on every call, which measured
  a third of the client's CPU per call. The adapter still sends it: same pool, retries, proxies,
  TLS checks, and the same requests exceptions for every transport failure.
* The mounted adapter (`_Adapter`) is requests' own, minus per-call work whose answer cannot
  change: a URL's pool is looked up once, and no response's cookies are parsed (none is kept).
  That measured 6-10% less CPU per create.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
import random
import ssl
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from itertools import takewhile
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.structures import CaseInsensitiveDict
from requests.utils import (
    get_encoding_from_headers,
    get_environ_proxies,
    prepend_scheme_if_needed,
)
from urllib3 import PoolManager
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    LocationParseError,
    NewConnectionError,
)
from urllib3.response import HTTPResponse
from urllib3.util import parse_url
from urllib3.util.retry import Retry

from pulumi_metal_reset._version import __version__
from pulumi_metal_reset.errors import ConfigurationError

if TYPE_CHECKING:
    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

    from pulumi_metal_reset.connection import Connection

__all__ = [
    "HEADERS",
    "POOL_MAXSIZE",
    "USER_AGENT",
    "Transport",
    "missing_ca_bundle",
    "retry_policy",
    "transport_for",
]

USER_AGENT: Final = f"pulumi-metal-reset/{__version__}"
#: Sent with every request, over the session's defaults (requests' Accept-Encoding and so on).
HEADERS: Final = {"Accept": "application/json", "User-Agent": USER_AGENT}

#: Connections kept per host: twice the provider server's four worker threads.
POOL_MAXSIZE: Final = 8
RETRYABLE_STATUSES: Final = frozenset({429, 503})
#: Where a CA bundle may be named, first wins: requests' own order, then OpenSSL's variable.
CA_BUNDLE_VARIABLES: Final = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


class _Retry(Retry):
    """urllib3's Retry with three changes, each for a reason stated on the method."""

    # 413 is in urllib3's default: a retried 413 can never succeed, so only 429 and 503 here.
    RETRY_AFTER_STATUS_CODES = RETRYABLE_STATUSES

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
        # urllib3 raises on a malformed Retry-After (InvalidHeader), and on an HTTP date its
        # clock cannot hold, such as the year 100000 (ValueError, OverflowError); fall back to
        # the exponential backoff.
        try:
            return super().get_retry_after(response)
        except (InvalidHeader, ValueError, OverflowError):
            return None


class _HTTPSConnection(HTTPSConnection):
    """urllib3's HTTPS connection, with its failures told apart by whether the request left.

    urllib3 raises the same SSLError for a handshake that failed (nothing sent) and for a TLS
    record broken after the request went out (it may have taken effect), and reads a reset in
    the handshake as a connection dropped after sending. Here a TLS error while sending or
    reading is a dropped connection (never re-sent, ambiguous), and a reset or abort in the
    handshake is a connection that could not be opened (retried, nothing sent).
    """

    def connect(self) -> None:
        try:
            super().connect()
        except ConnectionError as err:  # reset, aborted or broken before the handshake ended
            raise NewConnectionError(self, "the connection broke during the TLS handshake") from err
        except TimeoutError as err:  # urllib3 would call this a read timeout after sending
            raise ConnectTimeoutError(self, "the TLS handshake timed out") from err

    def request(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().request(*args, **kwargs)
        except ssl.SSLError as err:
            raise ConnectionAbortedError("TLS failed while the request was sent") from err

    def getresponse(self) -> HTTPResponse:  # type: ignore[override]  # as urllib3 declares it
        try:
            return super().getresponse()
        except ssl.SSLError as err:
            raise ConnectionAbortedError("TLS failed after the request was sent") from err


class _HTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


@functools.cache
def _socks_https_pool() -> type[HTTPSConnectionPool]:
    """The same split through a socks proxy; built on first use, since urllib3's socks module
    imports PySocks."""
    from urllib3.contrib.socks import SOCKSHTTPSConnection, SOCKSHTTPSConnectionPool

    class _SOCKSHTTPSConnection(_HTTPSConnection, SOCKSHTTPSConnection):
        pass

    class _SOCKSHTTPSConnectionPool(SOCKSHTTPSConnectionPool):
        ConnectionCls = _SOCKSHTTPSConnection

    return _SOCKSHTTPSConnectionPool


def _use_our_https_pools(
    manager: PoolManager, pool: type[HTTPSConnectionPool] = _HTTPSConnectionPool
) -> PoolManager:
    manager.pool_classes_by_scheme = {**manager.pool_classes_by_scheme, "https": pool}
    return manager


class _Adapter(HTTPAdapter):
    """requests' adapter, minus two pieces of per-call work whose answer cannot change.

    Both are `HTTPAdapter`'s documented subclassing hooks: the pool for a URL depends only on
    its scheme, host and port and on `verify`, `cert` and the proxies, which the transport fixes
    when it makes the session, so it is looked up once per URL and TLS settings; and a
    response's cookies are never read (`Transport.send`), so they are not parsed into a jar.
    """

    def __init__(self, max_retries: Retry) -> None:
        super().__init__(pool_connections=4, pool_maxsize=POOL_MAXSIZE, max_retries=max_retries)
        self._pools: dict[tuple[str, object, object], ConnectionPool] = {}

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _use_our_https_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        # The pools behind a proxy to the API are HTTPS pools too.
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        socks = proxy.lower().startswith("socks")
        return _use_our_https_pools(manager, _socks_https_pool() if socks else _HTTPSConnectionPool)

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: bool | str | None,
        proxies: Mapping[str, str] | None = None,
        cert: str | tuple[str, str] | None = None,
    ) -> ConnectionPool:
        # Keyed on the TLS settings too, so that a call with other ones never shares a pool
        # (requests' CVE-2024-35195). One endpoint per session: one pool, never evicted (the
        # manager keeps four). Threads that miss at once get the same pool from the manager.
        key = (str(request.url).partition("?")[0], verify, cert)
        pool = self._pools.get(key)
        if pool is None:
            pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
            self._pools[key] = pool
        return pool

    def close(self) -> None:
        super().close()  # the managers forget their pools and close idle connections
        self._pools.clear()

    def build_response(
        self, req: requests.PreparedRequest, resp: BaseHTTPResponse
    ) -> requests.Response:
        # `HTTPAdapter.build_response` without `extract_cookies_to_jar`.
        response = requests.Response()
        response.status_code = resp.status
        response.headers = CaseInsensitiveDict(resp.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = resp
        response.reason = resp.reason  # type: ignore[assignment]  # as requests sets it: maybe None
        response.url = str(req.url)  # prepared from a str, so never bytes
        response.request = req
        response.connection = self
        return response


def retry_policy(max_retries: int, max_retry_wait: float) -> Retry:
    """Retry only what did not take effect: connect errors, 429 and 503.

    urllib3's defaults are each wrong for this API, so every one is set: its `allowed_methods`
    leave out POST (yet a refused connection or a 429 never mailed anything), it retries read
    errors for DELETE (a sent DELETE may have reset the password: never re-send it), and it caps
    a `Retry-After` wait only at 6 h (`max_retry_wait` caps it here).
    """
    methods: Collection[str] = frozenset({"POST", "DELETE"})
    return _Retry(
        total=max_retries,
        connect=max_retries,
        status=max_retries,
        read=False,  # re-raise read errors as they are: the request was sent, never re-send it
        other=0,  # e.g. a TLS failure: not retried, reported as a NetworkError
        redirect=False,  # a redirect is reported, never followed: it could carry the token away
        allowed_methods=methods,
        status_forcelist=RETRYABLE_STATUSES,
        raise_on_status=False,  # the last 429/503 response comes back and is mapped
        respect_retry_after_header=True,
        retry_after_max=max(1, math.ceil(max_retry_wait)),
        backoff_factor=1.0,  # 1, 2, 4, 8 s ... like terraform-provider-equinix
        backoff_max=max_retry_wait,
        backoff_jitter=0.5,
    )


@dataclass(frozen=True)
class Transport:
    """A session set up for one endpoint, and where its CA bundle came from (for messages)."""

    session: requests.Session
    ca_variable: str | None
    """The variable that named the CA bundle; None for certifi's bundle."""
    verify: str | bool
    """What the adapter gets: the CA bundle's path, or True for certifi's (never False, see
    `_ca_bundle`); True for a plain-http endpoint, which has no TLS to verify."""
    headers: CaseInsensitiveDict[str | bytes]
    """The session's default headers with the client's own on top, merged once."""
    _prepared: dict[tuple[str, str], requests.PreparedRequest] = field(
        default_factory=dict, repr=False
    )
    """Per method and URL, the request as requests prepares it, without a query or a token."""

    def send(
        self, method: str, url: str, query: str, auth: AuthBase, timeout: tuple[float, float]
    ) -> requests.Response:
        """Send one request, body streamed, redirects not followed; raise requests' exceptions.

        `url` is the resource's URL and `query` its percent-encoded query ("?email=..."), or "".
        `Session.request` would merge the session's headers, proxies, TLS settings and cookies
        into every request, then prepare it; they were settled when the session was made, so
        each method and URL is prepared once, and a call copies that, appends its query and
        applies its auth. The copy goes to the adapter the session has mounted for the URL, as
        `Session.send` does, but without `Session.send`'s cookie handling: no response's cookie
        is ever kept, so none is sent (the API sets none, and a shared jar would be mutable
        state across threads).
        """
        session = self.session
        prepared = self._prepared.get((method, url))
        if prepared is None:
            prepared = requests.PreparedRequest()
            prepared.prepare(method=method, url=url, headers=self.headers)
            self._prepared[method, url] = prepared
        request = prepared.copy()
        # As prepared: requests re-quotes a URL, which leaves a percent-encoded query unchanged.
        request.url = f"{prepared.url}{query}"
        request.prepare_auth(auth)
        adapter = session.get_adapter(url)
        return adapter.send(
            request,
            stream=True,
            timeout=timeout,
            verify=self.verify,
            cert=session.cert,
            proxies=session.proxies,
        )


def _ca_bundle() -> tuple[str | bool, str | None]:
    """`verify` and the variable it came from. Never False: an empty variable means unset.

    Hand-written because requests reads REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE but ignores
    SSL_CERT_FILE (it uses certifi), which private-CA setups commonly set.
    """
    for name in CA_BUNDLE_VARIABLES:
        value = os.environ.get(name)
        if value:
            return value, name
    return True, None


def missing_ca_bundle(variable: str) -> ConfigurationError:
    return ConfigurationError(
        f"The CA bundle named by the environment variable {variable} does not exist; point it "
        "at a PEM file of trusted CA certificates or unset it."
    )


#: The proxy schemes urllib3 can use; the socks ones need PySocks (`requests[socks]`).
PROXY_SCHEMES: Final = frozenset({"http", "https", "socks4", "socks4a", "socks5", "socks5h"})


#: requests' own reading of a proxy without a scheme (untyped in types-requests).
_prepend_scheme: Callable[[str, str], str] = prepend_scheme_if_needed


def _pysocks_installed() -> bool:
    return importlib.util.find_spec("socks") is not None


def _check_proxy(url: str, proxies: Mapping[str, str]) -> None:
    """Refuse, before any socket, the proxy requests would pick for `url` when it cannot work.

    requests would raise only when it builds the request, with an exception that names neither
    the variable nor the fix. Which key wins follows `requests.utils.select_proxy`.
    """
    parts = urlsplit(url)
    scheme, host = parts.scheme, parts.hostname or ""
    keys = (f"{scheme}://{host}", scheme, f"all://{host}", "all")
    key = next((k for k in keys if proxies.get(k)), None)
    if key is None:
        return
    variable = f"{key.partition(':')[0].upper()}_PROXY"
    try:
        proxy = parse_url(_prepend_scheme(proxies[key], "http"))  # as requests reads it
    except LocationParseError:
        proxy = None
    if proxy is None or proxy.scheme not in PROXY_SCHEMES or not proxy.host:
        raise ConfigurationError(
            f"The proxy named by the environment variable {variable} (or its lower-case "
            "spelling) is not an http, https or socks URL with a host; correct or unset it."
        )
    if proxy.scheme.startswith("socks") and not _pysocks_installed():
        raise ConfigurationError(
            f"The environment variable {variable} names a socks proxy, which needs PySocks; "
            "install it (pip install 'requests[socks]') or use an http proxy."
        )


def _new_transport(conn: Connection) -> Transport:
    verify, ca_variable = _ca_bundle()
    # Checked here, before any socket: requests would raise a bare OSError on every call.
    # Plain http (loopback only) never reads the bundle, as with requests.
    https = conn.api_url.startswith("https:")
    if https and ca_variable is not None and not os.path.exists(str(verify)):
        raise missing_ca_bundle(ca_variable)
    session = requests.Session()
    session.trust_env = False  # the environment was read just now, once
    session.verify = verify
    # requests' own resolution (NO_PROXY, lower case first), for this endpoint only.
    session.proxies = {} if conn.loopback else dict(get_environ_proxies(conn.api_url))
    _check_proxy(conn.api_url, session.proxies)
    adapter = _Adapter(retry_policy(conn.max_retries, conn.max_retry_wait))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    headers = CaseInsensitiveDict(session.headers)  # requests' defaults: Accept-Encoding, ...
    headers.update(HEADERS)
    # Over plain http requests never reads the bundle, but given its path it would still stat
    # it on every call to key its pool; given True it does not.
    return Transport(session, ca_variable, verify if https else True, headers)


_transports: dict[tuple[str, int, float], Transport] = {}
_transports_lock = threading.Lock()


def transport_for(conn: Connection) -> Transport:
    """The process's transport for this endpoint and retry policy, made once under a lock."""
    key = (conn.api_url, conn.max_retries, conn.max_retry_wait)
    transport = _transports.get(key)
    if transport is None:
        with _transports_lock:
            transport = _transports.get(key)
            if transport is None:
                transport = _transports[key] = _new_transport(conn)
    return transport

"""The floor the provider benchmarks are measured against: a dynamic provider with nothing extra.

It does what `PasswordResetTokenProvider.create` must do on the wire (POST /reset-password with
X-Auth-Token) with the standard library alone: one keep-alive `http.client` connection per
server worker thread, no validation, no retries, no pydantic, no requests. Whatever our provider
costs beyond this is overhead to explain. It lives in an importable module so that dill pickles
the class by reference, as it does ours; the provider server needs this directory on its path.
"""

from __future__ import annotations

import http.client
import threading
import uuid
from typing import Any
from urllib.parse import quote, urlsplit

from pulumi.dynamic import CheckResult, ConfigureRequest, CreateResult, ResourceProvider

__all__ = ["BareProvider"]

# Module level, not on the instance: a thread-local cannot be pickled, and the server's four
# worker threads each keep their own connection as a pooled client would.
_local = threading.local()


class BareProvider(ResourceProvider):
    """Check passes the inputs through; create is one POST on this thread's connection."""

    _host = ""
    _port = 0
    _path = ""
    _token = ""

    def __getstate__(self) -> dict[str, Any]:
        """Pickle as a bare reference, like ours: settings are read in `configure`."""
        return {}

    def configure(self, req: ConfigureRequest) -> None:
        """Same stack config keys as ours, so both variants get the same Configure request."""
        parts = urlsplit(str(req.config.get("equinix:endpoint")))
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._path = parts.path.rstrip("/") + "/reset-password"
        self._token = str(req.config.get("equinix:authToken"))

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(_local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=10)
            _local.conn = conn
        return conn

    def create(self, props: dict[str, Any]) -> CreateResult:
        conn = self._connection()
        url = f"{self._path}?email={quote(str(props['email']), safe='')}"
        try:
            conn.request("POST", url, headers={"X-Auth-Token": self._token})
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            conn.close()  # the next call on this thread reconnects
            _local.conn = None
            raise
        if response.status != 201:
            raise RuntimeError(f"POST /reset-password answered HTTP {response.status}")
        return CreateResult(uuid.uuid4().hex, {"email": props["email"]})

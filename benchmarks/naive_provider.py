"""The easy way to write this provider with requests, kept to show what pooling buys.

A new `requests.Session` per call means a new TCP connection per create (and, against the real
API, a new TLS handshake): the cost our provider's shared, pooled session exists to avoid.
Importable for the same reason as `bare_provider`: dill pickles the class by reference.
"""

from __future__ import annotations

import uuid
from typing import Any

import requests
from pulumi.dynamic import CheckResult, ConfigureRequest, CreateResult, ResourceProvider

__all__ = ["NaiveRequestsProvider"]


class NaiveRequestsProvider(ResourceProvider):
    """Check passes the inputs through; create is `requests.post` in a fresh Session."""

    _url = ""
    _token = ""

    def __getstate__(self) -> dict[str, Any]:
        """Pickle as a bare reference, like ours: settings are read in `configure`."""
        return {}

    def configure(self, req: ConfigureRequest) -> None:
        self._url = str(req.config.get("equinix:endpoint")).rstrip("/") + "/reset-password"
        self._token = str(req.config.get("equinix:authToken"))

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        with requests.Session() as session:
            response = session.post(
                self._url,
                params={"email": props["email"]},
                headers={"X-Auth-Token": self._token},
                timeout=10,
            )
        if response.status_code != 201:
            raise RuntimeError(f"POST /reset-password answered HTTP {response.status_code}")
        return CreateResult(uuid.uuid4().hex, {"email": props["email"]})

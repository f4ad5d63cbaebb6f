"""Serving the control API under `/_emulator/`: faults and journal, for tests and the CLI.

No authentication (the emulator listens on loopback only), never faulted, never journaled.
Knows nothing of sockets: it gets a request's method, path and body and returns the answer.
"""

from __future__ import annotations

import json

from pulumi_metal_reset.emulator.faults import FaultConfig, FaultConfigError, Faults
from pulumi_metal_reset.emulator.journal import Journal
from pulumi_metal_reset.emulator.wire import Response, error_response, json_response

__all__ = ["CONTROL_PREFIX", "CONTROL_ROUTES", "ControlApi", "is_control_path"]

CONTROL_PREFIX = "/_emulator"
CONTROL_ROUTES = {
    CONTROL_PREFIX + "/faults": ("DELETE", "GET", "PATCH", "PUT"),
    CONTROL_PREFIX + "/journal": ("DELETE", "GET"),
}


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


class ControlApi:
    """Reads and changes the shared faults and journal; safe across threads."""

    def __init__(self, faults: Faults, journal: Journal) -> None:
        self.faults = faults
        self.journal = journal

    def serve(self, method: str, path: str, body: bytes) -> Response:
        route = path.rstrip("/")
        methods = CONTROL_ROUTES.get(route)
        if methods is None:
            return error_response(404, "Not found")
        if method not in methods:
            return error_response(405, "Method not allowed", (("Allow", ", ".join(methods)),))
        if route.endswith("/faults"):
            return self._faults(method, body)
        return self._journal(method)

    def _faults(self, method: str, body: bytes) -> Response:
        faults = self.faults
        try:
            if method == "PUT":
                faults.set(FaultConfig.from_json(_json_body(body)))
            elif method == "PATCH":
                data = _json_body(body)
                faults.modify(lambda current: FaultConfig.from_json(data, base=current))
            elif method == "DELETE":
                faults.clear()
        except FaultConfigError as err:
            return json_response(422, {"errors": err.problems})
        return json_response(200, faults.to_json())

    def _journal(self, method: str) -> Response:
        if method == "DELETE":
            return json_response(200, {"cleared": self.journal.clear()})
        entries = [entry.to_json() for entry in self.journal.snapshot()]
        return json_response(200, {"entries": entries})


def _json_body(body: bytes) -> object:
    try:
        return json.loads(body or b"{}")
    except ValueError:
        raise FaultConfigError(["the body is not valid JSON"]) from None

"""Shared helpers for the emulator tests: raw keep-alive HTTP and the spec's shapes, strictly."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import ConfigDict

from pulumi_metal_reset.api_models import ApiErrorBody, NewPassword
from pulumi_metal_reset.emulator import DEV_TOKEN

SPEC = Path(__file__).resolve().parents[1] / "reference" / "equinix-metal-openapi"
RESET = "/reset-password"


class StrictNewPassword(NewPassword):
    """NewPassword with nothing extra allowed: the emulator must send exactly the spec's shape."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class StrictErrorBody(ApiErrorBody):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def spec_statuses(method: str) -> set[int]:
    """The statuses the spec documents for `method /reset-password`."""
    path_item = yaml.safe_load((SPEC / "paths-reset-password.yaml").read_text())
    return {int(code) for code in path_item[method.lower()]["responses"]}


@dataclass(frozen=True)
class Received:
    """One response as the test client read it."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """One keep-alive `http.client` connection to an emulator, addressed by its base URL."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None
        assert parts.port is not None
        self.root = parts.path.rsplit("/metal/v1", 1)[0]
        self.base = parts.path
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Received:
        sent = dict(headers or {})
        if token is not None:
            sent["X-Auth-Token"] = token
        self.conn.request(method, path, body=body, headers=sent)
        response = self.conn.getresponse()
        return Received(response.status, response.headers, response.read())

    def delete(self, token: str | None = DEV_TOKEN) -> Received:
        return self.request("DELETE", self.base + RESET, token=token)

    def post(self, query: str, token: str | None = DEV_TOKEN) -> Received:
        """`query` goes on the wire as given, so tests choose the exact encoding."""
        return self.request("POST", f"{self.base}{RESET}?{query}", token=token)

    def control(self, method: str, route: str, payload: object = None) -> Received:
        body = None if payload is None else json.dumps(payload).encode()
        return self.request(method, f"{self.root}/_emulator/{route}", body=body)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def new_password(reply: Received) -> str:
    """Check a DELETE 201 against the spec and return the password."""
    assert reply.status == 201, reply.status
    assert reply.content_type == "application/json"
    assert reply.headers["Content-Length"] == str(len(reply.body))
    return StrictNewPassword.model_validate_json(reply.body).new_password.get_secret_value()


def error_body(reply: Received, status: int) -> StrictErrorBody:
    """Check an error answer: the status, JSON, and the spec's Error shape with a message."""
    assert reply.status == status, (reply.status, reply.body)
    assert reply.content_type == "application/json"
    body = StrictErrorBody.model_validate_json(reply.body)
    assert body.messages(), "an error body must say what went wrong"
    return body


@dataclass
class Process:
    """A `python -m pulumi_metal_reset.emulator` child and the URL it printed."""

    popen: subprocess.Popen[str]
    url: str
    startup_s: float


def skip_without_ipv6_loopback() -> None:
    """Skip the calling test where this machine cannot bind ::1."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")


def start_cli(*args: str, verbose: bool = False) -> Process:
    """Start the CLI and wait for its first stdout line (the URL)."""
    command = [sys.executable, "-m", "pulumi_metal_reset.emulator", *args]
    if verbose:
        command.append("--verbose")
    started = time.perf_counter()
    popen = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Buffered stdout, as a user's shell would give: the emulator must flush the URL itself.
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
    )
    assert popen.stdout is not None
    url = popen.stdout.readline().strip()
    startup_s = time.perf_counter() - started
    if not url:
        popen.kill()
        _, err = popen.communicate(timeout=5)
        raise AssertionError(f"the emulator printed no URL; stderr: {err}")
    return Process(popen, url, startup_s)

"""A token or password misplaced in a URL never reaches a log record, on every logging path.

The API access line, the control API's debug line and the internal-error line each log the
request path; each is exercised with the secrets in the path and the query, as sent and
percent-encoded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from pulumi_metal_reset.emulator import Emulator
from pulumi_metal_reset.emulator.metal_api import MetalApi

from .support import Client, new_password

SECRET_TOKEN = "tok-0123456789abcdef-secret"
LOGGER = "pulumi_metal_reset.emulator"


def _encoded(text: str) -> str:
    """Every byte percent-encoded, so no substring match on the raw path can find it."""
    return "".join(f"%{byte:02X}" for byte in text.encode())


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator({SECRET_TOKEN: "alice"}) as emu:
        yield emu


def _urls(password: str) -> list[str]:
    """Paths carrying both secrets in the path and in the query, plain and percent-encoded."""
    return [
        f"/{SECRET_TOKEN}/{password}?token={SECRET_TOKEN}&p={password}",
        f"/{_encoded(SECRET_TOKEN)}/x{_encoded(password)}?t={_encoded(SECRET_TOKEN)}",
    ]


def _assert_clean(caplog: pytest.LogCaptureFixture, password: str) -> list[str]:
    records = [r for r in caplog.records if r.name == LOGGER]
    texts = [f"{r.getMessage()} {r.msg!r} {r.args!r}" for r in records]
    for text in texts:
        assert SECRET_TOKEN not in text
        assert password not in text
    return [r.getMessage() for r in records]


def test_api_and_control_log_lines_redact_the_path(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    with Client(emulator.url) as client:
        password = new_password(client.delete(token=SECRET_TOKEN))
        for url in _urls(password):
            assert client.request("GET", "/metal/v1" + url).status == 404
            assert client.request("DELETE", "/_emulator" + url).status == 404
    lines = _assert_clean(caplog, password)
    api = [line for line in lines if line.startswith("GET /metal/v1/")]
    control = [line for line in lines if line.startswith("control DELETE /_emulator/")]
    assert len(api) == len(control) == 2  # the lines exist: the test is not vacuous
    assert all("<redacted>" in line for line in api + control)
    assert all("<redacted>" in entry.path for entry in emulator.journal if entry.status == 404)


def test_internal_error_log_line_redacts_the_path(
    emulator: Emulator, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError(SECRET_TOKEN)  # the message is never logged either

    caplog.set_level(logging.DEBUG, logger=LOGGER)
    with Client(emulator.url) as client:
        password = new_password(client.delete(token=SECRET_TOKEN))
        monkeypatch.setattr(MetalApi, "serve", broken)
        for url in _urls(password):
            with Client(emulator.url) as fresh:  # a 500 closes the connection
                assert fresh.request("GET", "/metal/v1" + url).status == 500
    errors = [line for line in _assert_clean(caplog, password) if "emulator error" in line]
    assert len(errors) == 2
    assert all("<redacted>" in line and "RuntimeError" in line for line in errors)

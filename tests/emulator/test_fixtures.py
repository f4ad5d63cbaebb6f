"""The pytest fixtures, as our tests use them and as users enable them with `pytest_plugins`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from pulumi_metal_reset.emulator import DEV_TOKEN, DEV_USER, Emulator, FaultConfig

from .support import Client, error_body, new_password


def test_metal_emulator_runs_with_the_dev_token(metal_emulator: Emulator) -> None:
    assert metal_emulator.running
    assert metal_emulator.users == (DEV_USER,)
    assert metal_emulator.token_for_user(DEV_USER) == DEV_TOKEN
    with Client(metal_emulator.url) as client:
        assert new_password(client.delete(DEV_TOKEN)) == metal_emulator.password_of(DEV_USER)


def test_the_factory_takes_tokens_and_options(
    metal_emulator_factory: Callable[..., Emulator],
) -> None:
    first = metal_emulator_factory({"tok-a": "alice"})
    second = metal_emulator_factory(faults=FaultConfig(script=("503",)))
    assert first.port != second.port
    with Client(first.url) as client:
        new_password(client.delete("tok-a"))
    with Client(second.url) as client:
        error_body(client.delete(DEV_TOKEN), 503)


USER_CONFTEST = 'pytest_plugins = ["pulumi_metal_reset.testing.fixtures"]\n'
USER_TESTS = """
import http.client
from urllib.parse import urlsplit

from pulumi_metal_reset.emulator import DEV_TOKEN

SEEN = []


def _delete(url):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    conn.request("DELETE", parts.path + "/reset-password", headers={"X-Auth-Token": DEV_TOKEN})
    return conn.getresponse().status


def test_one(metal_emulator, metal_emulator_factory):
    SEEN.extend([metal_emulator, metal_emulator_factory({"t": "u"})])
    assert _delete(metal_emulator.url) == 201
    metal_emulator.faults.set(rate=1.0)


def test_two_gets_a_fresh_emulator_and_the_old_ones_are_stopped(metal_emulator):
    assert not any(emulator.running for emulator in SEEN)
    assert metal_emulator not in SEEN
    assert metal_emulator.journal == []
    assert _delete(metal_emulator.url) == 201
"""


def test_users_enable_the_fixtures_with_pytest_plugins(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(USER_CONFTEST)
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_our_suite_registers_the_fixtures_once() -> None:
    """Registered in tests/conftest.py as users do, and nowhere else (no shadowing copy)."""
    tests = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--fixtures", "-q", "-p", "no:cacheprovider", str(tests)],
        capture_output=True,
        text=True,
        cwd=tests.parent,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("metal_emulator", "metal_emulator_factory"):
        defined = [line for line in result.stdout.splitlines() if line.startswith(f"{name} ")]
        assert len(defined) == 1, defined
        assert "pulumi_metal_reset/testing/fixtures.py" in defined[0]

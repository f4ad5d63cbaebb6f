"""Fixtures for the test-engine tests: a fresh copy of a test program per test.

``counter`` is a small provider of our own that logs every call it receives; ``tokens`` runs two
real ``PasswordResetToken`` resources against the emulator.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pulumi_metal_reset.emulator import DEV_TOKEN, Emulator
from pulumi_metal_reset.testing.engine import TestEngine
from tests.counter_log import TOKEN, read_calls, read_mutations
from tests.pulumi_versions import provider_error_tail

PROGRAMS = Path(__file__).parent / "programs"


@dataclass
class CounterProject:
    """The counter program copied to a temp dir, the file its provider logs calls to, and the
    stack's state file."""

    dir: Path
    log: Path
    state_path: Path

    def engine(self, *, token: str = TOKEN, **config: str) -> TestEngine:
        """An engine for stack ``dev`` with the provider's log path and secret token set."""
        return TestEngine(
            self.dir,
            config={"log": str(self.log), **config},
            secret_config={"token": token},
            state_path=self.state_path,
        )

    def calls(self) -> list[dict[str, Any]]:
        """Every call the provider received so far, in order."""
        return read_calls(self.log)

    def mutations(self) -> list[tuple[str, str]]:
        """``(call, name)`` of the create/update/delete calls the provider received."""
        return read_mutations(self.log)

    def state(self) -> dict[str, Any]:
        """The raw state file of stack ``dev``."""
        data: dict[str, Any] = json.loads(self.state_path.read_text())
        return data


@pytest.fixture
def counter(tmp_path: Path) -> CounterProject:
    """A private copy, so state files and stack config never touch the repository."""
    target = tmp_path / "counter"
    shutil.copytree(PROGRAMS / "counter", target, ignore=shutil.ignore_patterns("__pycache__"))
    return CounterProject(
        dir=target, log=tmp_path / "calls.jsonl", state_path=tmp_path / "state" / "dev.json"
    )


@dataclass
class TokenStack:
    """A token program (``tokens``: two tokens; ``review``: one, project ``infra``) copied to a
    temp dir, against the emulator.

    Each stack keeps its state in ``<state_dir>/<stack>.json``; ``token`` is the API token the
    stack config holds (the emulator must know it).
    """

    dir: Path
    state_dir: Path
    emulator: Emulator
    token: str = DEV_TOKEN

    def engine(
        self,
        provider_env: Mapping[str, str] | None = None,
        *,
        stack: str = "dev",
        secrets: Mapping[str, str] | None = None,
        **config: str,
    ) -> TestEngine:
        """An engine for ``stack`` with ``config`` for the program and ``secrets`` as secret
        config (the API token is always one)."""
        return TestEngine(
            self.dir,
            stack=stack,
            config={
                "equinix:endpoint": self.emulator.url,
                "equinix:maxRetryWaitSeconds": "0.05",
                **config,
            },
            secret_config={"equinix:authToken": self.token, **(secrets or {})},
            state_path=self.state_dir / f"{stack}.json",
            provider_env=provider_env,
        )

    def api_calls(self) -> list[str]:
        """The API methods the emulator saw since the last call of this method."""
        calls = [entry.method for entry in self.emulator.journal]
        self.emulator.reset_journal()
        return calls


def raised(error: str | None, exception: str, message: str) -> bool:
    """True when ``error`` ends as the dynamic-provider server reports ``exception(message)``
    (a traceback's last line, see ``tests/pulumi_versions.py``)."""
    return (error or "").rstrip().endswith(provider_error_tail(exception, message))


def _token_stack(
    program: str, tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> TokenStack:
    """A private copy of ``program``; only its stack config configures the provider (the
    provider server inherits this environment)."""
    for key in ("METAL_AUTH_TOKEN", "EQUINIX_API_ENDPOINT", "EQUINIX_API_TIMEOUT"):
        monkeypatch.delenv(key, raising=False)
    return TokenStack(
        dir=copy_program(program, tmp_path), state_dir=tmp_path / "state", emulator=emulator
    )


def copy_program(program: str, into: Path) -> Path:
    """A private copy of the test program ``program`` at ``into/<program>``."""
    target = into / program
    shutil.copytree(PROGRAMS / program, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture
def tokens(tmp_path: Path, metal_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> TokenStack:
    """The two-token program."""
    return _token_stack("tokens", tmp_path, metal_emulator, monkeypatch)


@pytest.fixture
def review(tmp_path: Path, metal_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> TokenStack:
    """The one-token program (project ``infra``)."""
    return _token_stack("review", tmp_path, metal_emulator, monkeypatch)

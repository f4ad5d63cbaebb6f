"""Run the example programs through the test engine against the emulator.

Real: each program runs in its own process through the Python SDK (`pulumi.runtime`), talks gRPC
to the test engine, and every PasswordResetToken call goes to the real `python -m pulumi.dynamic`
server, which talks HTTP to the emulator. Stood in for: the Pulumi CLI and Go engine
(`pulumi_metal_reset.testing.TestEngine`), and the Metal API (the emulator).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from pulumi_metal_reset.emulator import DEV_TOKEN, Emulator
from pulumi_metal_reset.settings import ENV_KEYS
from pulumi_metal_reset.testing.engine import RunResult, TestEngine

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROGRAMS = Path(__file__).resolve().parent / "programs"
RESOURCE_TYPE = "pulumi-python:dynamic/metal:PasswordResetToken"


class ExampleStack:
    """One example copied into a temporary folder, with a stack whose config can change."""

    def __init__(self, example: str, root: Path, emulator: Emulator) -> None:
        self.dir = root / example
        source = EXAMPLES / example if (EXAMPLES / example).is_dir() else PROGRAMS / example
        shutil.copytree(source, self.dir)
        self.emulator = emulator
        self.state = root / f"{example}.state.json"
        self.config: dict[str, str] = {
            "equinix:endpoint": emulator.url,
            "equinix:maxRetryWaitSeconds": "0.05",
        }

    def engine(self, provider_env: Mapping[str, str] | None = None) -> TestEngine:
        return TestEngine(
            self.dir,
            stack="test",
            config=self.config,
            secret_config={"equinix:authToken": DEV_TOKEN},
            state_path=self.state,
            provider_env=provider_env,
        )

    def preview(self, provider_env: Mapping[str, str] | None = None) -> RunResult:
        return self._ran(self.engine(provider_env).preview())

    def up(
        self,
        provider_env: Mapping[str, str] | None = None,
        policy_packs: Sequence[Path] = (),
        policy_pack_configs: Sequence[dict[str, Any]] | None = None,
    ) -> RunResult:
        engine = self.engine(provider_env)
        return self._ran(
            engine.up(policy_packs=policy_packs, policy_pack_configs=policy_pack_configs)
        )

    def refresh(self, provider_env: Mapping[str, str] | None = None) -> RunResult:
        return self._ran(self.engine(provider_env).refresh())

    def destroy(self, provider_env: Mapping[str, str] | None = None) -> RunResult:
        return self._ran(self.engine(provider_env).destroy())

    def _ran(self, result: RunResult) -> RunResult:
        self.last = result
        return result

    def api_calls(self) -> list[str]:
        """What reached the API since the last call of this method."""
        calls = [entry.method for entry in self.emulator.journal]
        self.emulator.reset_journal()
        return calls


def assert_ok(result: RunResult) -> None:
    assert result.ok, result.render() + "\n" + result.program_output + result.provider_output


StackFactory = Callable[[str], ExampleStack]


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider server inherits this environment; only the stack config may configure it."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def stack_factory(tmp_path: Path, metal_emulator: Emulator) -> StackFactory:
    def make(example: str) -> ExampleStack:
        return ExampleStack(example, tmp_path, metal_emulator)

    return make

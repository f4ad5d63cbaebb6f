"""Provider methods called directly, with `olds` shaped as the engine passes them.

`check` gets the old *inputs*; `diff` and `update` get the old *outputs* (the dynamic-provider
server drops `old_inputs`). `DirectStack` below keeps both, as the engine's state does, and marks
nothing secret: secrets are stripped before provider calls (acceptSecrets=False). It is not a
second test engine: `pulumi_metal_reset.testing.TestEngine` drives the real server over gRPC;
this drives one provider instance in-process, call by call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_metal_reset.emulator import DEV_TOKEN, Emulator
from pulumi_metal_reset.provider import PasswordResetTokenProvider
from pulumi_metal_reset.settings import ENV_KEYS


def make_provider(config: dict[str, str]) -> PasswordResetTokenProvider:
    provider = PasswordResetTokenProvider()
    provider.configure(ConfigureRequest(Config(config, "test-project")))
    return provider


@dataclass
class DirectStack:
    """One resource's state between runs, driven the way the engine drives the provider."""

    provider: PasswordResetTokenProvider
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    id: str | None = None

    def check(self, news: dict[str, Any]) -> dict[str, Any]:
        result = self.provider.check(dict(self.inputs), dict(news))
        assert result.failures == [], [(f.property, f.reason) for f in result.failures]
        return result.inputs

    def up(self, news: dict[str, Any]) -> str:
        """Check, diff, then create/update; returns the step the engine would take."""
        checked = self.check(news)
        if self.id is None:
            created = self.provider.create(dict(checked))
            self.id, self.outputs, self.inputs = created.id, dict(created.outs or {}), checked
            return "create"
        diff = self.provider.diff(self.id, dict(self.outputs), dict(checked))
        assert not diff.replaces, "the provider never asks for a replace"
        if not diff.changes:
            self.inputs = checked  # a same step records the new inputs, keeps the outputs
            return "same"
        updated = self.provider.update(self.id, dict(self.outputs), dict(checked))
        self.outputs, self.inputs = dict(updated.outs or {}), checked
        return "update"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def emulator(metal_emulator: Emulator) -> Emulator:
    return metal_emulator


@pytest.fixture
def provider(emulator: Emulator) -> PasswordResetTokenProvider:
    return make_provider(
        {
            "equinix:endpoint": emulator.url,
            "equinix:authToken": DEV_TOKEN,
            "equinix:maxRetryWaitSeconds": "0.05",
            "equinix:requestTimeout": "5",
        }
    )


@pytest.fixture
def deployment(provider: PasswordResetTokenProvider) -> DirectStack:
    return DirectStack(provider)

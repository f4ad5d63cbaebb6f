"""Policy packs started through `pulumi_metal_reset.testing._policy`, as the engine starts them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from pulumi_metal_reset.testing._policy import PolicyPacks, PolicyViolation
from tests.wire import secret

REPO = Path(__file__).resolve().parents[2]
PACK = REPO / "policy"
PROBE = Path(__file__).parent / "packs" / "probe"
TOKEN_TYPE = "pulumi-python:dynamic/metal:PasswordResetToken"
PROJECT, STACK = "reviewed", "dev"
PROVIDER = "pulumi_metal_reset.provider.PasswordResetTokenProvider (pickled)"

#: Secret canaries: none of them may appear in any policy message.
API_TOKEN = "api-token-CANARY-7f3a"
TRIGGER_VALUE = "trigger-CANARY-19be"
PASSWORD = "password-CANARY-c0de"

#: Leave a key out of `checked_inputs`.
ABSENT: Any = object()


def urn(name: str, type_: str = TOKEN_TYPE) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}"


def checked_inputs(**overrides: Any) -> dict[str, Any]:
    """Inputs as the provider's check returns them and the engine forwards them to Analyze: the
    secret token still wrapped (the engine re-marks it after check), the pickled provider too."""
    inputs: dict[str, Any] = {
        "__provider": secret(PROVIDER),
        "email": "ops@example.com",
        "rotate_every": "P30D",
        "rotation_triggers": {},
        "rotate_on_create": False,
        "auth_token": secret(API_TOKEN),
        "rotation_slot": "2026-01-01T00:00:00Z",
        "credential_id": "cred-0123456789abcdef",
    }
    inputs.update(overrides)
    return {k: v for k, v in inputs.items() if v is not ABSENT}


def start(
    dry_run: bool = True, policy_config: Mapping[str, Any] | None = None, pack: Path = PACK
) -> PolicyPacks:
    return PolicyPacks.start(
        [pack],
        project=PROJECT,
        stack=STACK,
        dry_run=dry_run,
        config={"equinix:authToken": API_TOKEN, "probe:greeting": "hi from config"},
        config_secret_keys=["equinix:authToken"],
        policy_configs=[policy_config],
        tags={"team": "ops"},
    )


def by_policy(
    violations: tuple[PolicyViolation, ...] | list[PolicyViolation], name: str
) -> list[PolicyViolation]:
    return [v for v in violations if v.policy_name == name]


@pytest.fixture(scope="module")
def preview_pack() -> Iterator[PolicyPacks]:
    """The real pack with its default config, as in `pulumi preview --policy-pack policy/`."""
    with start() as packs:
        yield packs

"""The policy pack in `policy/` run by the test engine, as `pulumi preview/up --policy-pack`.

Real: the pack served by pulumi-policy's Analyzer server (started as the Python language host
starts it), the program, the dynamic-provider server and HTTP to the emulator. Stood in for: the
Pulumi CLI and Go engine (the test engine; the policy rows of docs/engine-fidelity.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pulumi_metal_reset.emulator import Emulator
from pulumi_metal_reset.testing import RunResult, assert_secret_only

from .conftest import TokenStack

pytestmark = pytest.mark.engine

PACK = Path(__file__).resolve().parents[2] / "policy"
TYPE = "pulumi-python:dynamic/metal:PasswordResetToken"
URN_ADMIN = f"urn:pulumi:dev::infra::{TYPE}::admin"
URN_BACKUP = f"urn:pulumi:dev::infra::{TYPE}::backup"
#: One API user per stack is the default program; `second=true` adds a token on the same one.
ALONE = {"one-token-per-api-user": "disabled"}


def violations(result: RunResult) -> list[tuple[str, str, str]]:
    return sorted((v.policy_name, v.enforcement_level, v.urn) for v in result.policy_violations)


def test_the_pack_blocks_a_one_year_period_in_a_preview(review: TokenStack) -> None:
    """Issue 11's done-criterion: `pulumi preview --policy-pack policy/` with a 1-year
    `rotate_every` fails on the mandatory max-rotation-age policy; the steps are still shown."""
    result = review.engine(rotateEvery="365d").preview(policy_packs=[PACK])

    assert not result.ok
    assert violations(result) == [("max-rotation-age", "mandatory", URN_ADMIN)]
    assert result.error == (
        f"[mandatory] [severity: high]  max-rotation-age  ({TYPE}: admin)\n"
        "A PasswordResetToken rotates the password on a schedule no longer than the configured "
        "maximum age (maxAge, 90 days by default).\n"
        "rotate_every is longer than the maximum of 90 days; set it to 90 days or less."
    )
    assert result.ops() == {"admin": "create"}
    text = result.render()
    assert f"Policies:\n    \u274c metal-reset@v0.1.0 (local: {PACK})\n" in text
    assert "  pulumi:pulumi:Stack (infra-dev):\n    error: preview failed\n" in text
    assert "Resources:" not in text  # the CLI ends the display after a mandatory violation
    assert review.api_calls() == []


def test_an_up_refuses_to_touch_a_token_the_pack_blocks(review: TokenStack) -> None:
    """`up` with the mandatory violation: the resource is invalid, so no step runs for it (the
    engine bails, reporting nothing more); its state and the API are untouched."""
    assert review.engine(rotateEvery="30d").up(policy_packs=[PACK]).ok
    before = review.engine().load_state().resource("admin")
    review.api_calls()

    result = review.engine(rotateEvery="365d", ticket="SEC-2").up(policy_packs=[PACK])

    assert not result.ok
    assert violations(result) == [("max-rotation-age", "mandatory", URN_ADMIN)]
    assert "admin" not in result.ops()
    assert review.api_calls() == []
    after = review.engine().load_state().resource("admin")
    assert (after.inputs, after.outputs) == (before.inputs, before.outputs)
    text = result.render()
    assert "\u274c metal-reset@v0.1.0" in text
    assert "update failed" not in text  # a bail: no closing line
    assert "Resources:" not in text


def test_an_advisory_violation_warns_and_the_run_goes_on(
    review: TokenStack, tmp_path: Path
) -> None:
    """allowed-email-domains is advisory: the token is created, the pack warns. The config comes
    from a file, as `--policy-pack-config` gives it."""
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"allowed-email-domains": {"domains": ["example.com"]}, **ALONE}))

    result = review.engine(rotateEvery="30d", email="ops@contractor.example.net").up(
        policy_packs=[PACK], policy_pack_configs=[config]
    )

    assert result.ok, result.error
    assert violations(result) == [("allowed-email-domains", "advisory", URN_ADMIN)]
    assert result.ops() == {"admin": "create"}
    assert review.api_calls() == ["POST"]
    text = result.render()
    assert "    \u26a0\ufe0f metal-reset@v0.1.0" in text
    assert f"- [advisory] [severity: medium]  allowed-email-domains  ({TYPE}: admin)" in text
    assert "contractor.example.net" not in text
    assert "Resources:\n    + 2 created\n" in text


def test_a_clean_stack_passes_every_policy(review: TokenStack) -> None:
    result = review.engine(rotateEvery="30d").preview(policy_packs=[PACK])

    assert result.ok, result.error
    assert result.policy_violations == []
    assert "    \u2705 metal-reset@v0.1.0" in result.render()


def test_the_stack_policy_finds_two_tokens_on_one_api_user(review: TokenStack) -> None:
    """AnalyzeStack on the outputs of an `up`: both tokens carry the same `credential_id`, so
    each is reported (advisory), naming the other and not the id."""
    result = review.engine(rotateEvery="30d", second="true").up(policy_packs=[PACK])

    assert result.ok, result.error
    assert violations(result) == [
        ("one-token-per-api-user", "advisory", URN_ADMIN),
        ("one-token-per-api-user", "advisory", URN_BACKUP),
    ]
    credential = review.engine().load_state().resource("admin").outputs["credential_id"]
    by_urn = {v.urn: v.message for v in result.policy_violations}
    assert "the same API user as backup (the same credential_id)" in by_urn[URN_ADMIN]
    assert "the same API user as admin (the same credential_id)" in by_urn[URN_BACKUP]
    assert credential not in result.render()


def test_a_pack_that_cannot_start_fails_the_run_before_the_program(
    review: TokenStack, tmp_path: Path
) -> None:
    result = review.engine(rotateEvery="30d").up(policy_packs=[tmp_path / "no-pack-here"])

    assert not result.ok
    assert result.error is not None
    assert result.error.startswith("failed to load Pulumi policy project located at")
    assert result.steps == []
    assert review.api_calls() == []


API_TOKEN = "api-token-CANARY-5e1f"
RELEASE_KEY = "release-CANARY-9a7d"


def test_no_secret_reaches_a_violation_or_the_rendered_text(
    metal_emulator_factory: Callable[..., Emulator], review: TokenStack
) -> None:
    """Every policy failing, with the API token, a secret trigger value and the rotated password
    planted: none of them is in a violation, in `render()` or in `render(diff=True)`."""
    review.emulator = metal_emulator_factory({API_TOKEN: "canary"})
    review.token = API_TOKEN
    everything = {
        "all": "advisory",
        "allowed-email-domains": {"domains": ["example.com"]},
        "max-rotation-age": {"maxAge": "1d"},
    }
    secrets = {"releaseKey": RELEASE_KEY}

    up = review.engine(
        secrets=secrets,
        email="x@contractor.example.net",
        rotateEvery="30d",
        rotateOnCreate="true",
        second="true",
    ).up(policy_packs=[PACK], policy_pack_configs=[everything])
    assert up.ok, up.error
    password = review.emulator.password_of("canary")
    assert password is not None
    preview = review.engine(
        secrets=secrets, rotateEvery="365d", rotateOnCreate="true", second="true"
    ).preview(policy_packs=[PACK], policy_pack_configs=[{**everything, "all": "mandatory"}])

    assert not preview.ok
    assert {v.policy_name for v in up.policy_violations} == {
        "max-rotation-age",
        "allowed-email-domains",
        "password-kept-in-state",
        "one-token-per-api-user",
    }
    for result in (up, preview):
        shown = "\n".join(
            [result.render(), result.render(diff=True), result.error or ""]
            + [repr(v) for v in result.policy_violations]
        )
        for canary in (API_TOKEN, RELEASE_KEY, password):
            assert canary not in shown
    assert_secret_only(up, password)
    assert_secret_only(up, RELEASE_KEY)


def test_a_secret_config_value_a_pack_prints_reads_secret(
    review: TokenStack, tmp_path: Path
) -> None:
    """The CLI's filter (`logging.FilterString`): a pack that quotes a secret config value shows
    `[secret]`. The probe pack reports `probe:greeting`, here a secret."""
    probe = Path(__file__).resolve().parents[1] / "policy" / "packs" / "probe"
    engine = review.engine(rotateEvery="30d", secrets={"probe:greeting": "hello-CANARY-77"})

    result = engine.preview(policy_packs=[probe], policy_pack_configs=[{"all": "advisory"}])

    messages = "\n".join(v.message for v in result.policy_violations)
    assert '"greeting_config": "[secret]"' in messages
    assert "hello-CANARY-77" not in messages


def test_only_preview_and_up_take_policy_packs() -> None:
    """As the CLI's flags: refresh and import run no pack, destroy loads none."""
    from inspect import signature

    from pulumi_metal_reset.testing import TestEngine

    takes = {
        name: "policy_packs" in signature(getattr(TestEngine, name)).parameters
        for name in ("preview", "up", "refresh", "destroy", "import_resource")
    }
    assert takes == {
        "preview": True,
        "up": True,
        "refresh": False,
        "destroy": False,
        "import_resource": False,
    }

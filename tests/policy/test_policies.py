"""Every policy of the pack in `policy/`, passing and failing, through the real pulumi-policy
server started as the engine starts it (`pulumi_metal_reset.testing._policy`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_metal_reset.audit import rules
from pulumi_metal_reset.testing._policy import (
    PolicyPackError,
    PolicyPacks,
    ResourceAnalysis,
    StackResource,
    render_policies,
    run_failed,
)
from pulumi_metal_reset.unknowns import UNKNOWN_SENTINEL
from tests.policy.conftest import (
    ABSENT,
    API_TOKEN,
    PASSWORD,
    TOKEN_TYPE,
    TRIGGER_VALUE,
    by_policy,
    checked_inputs,
    start,
    urn,
)
from tests.wire import secret

UNKNOWN = UNKNOWN_SENTINEL


def analyze(packs: PolicyPacks, name: str = "tok", **overrides: Any) -> ResourceAnalysis:
    return packs.analyze(urn(name), TOKEN_TYPE, checked_inputs(**overrides))


def messages(analysis: ResourceAnalysis, policy: str) -> list[str]:
    return [v.message for v in by_policy(analysis.violations, policy)]


# --- max-rotation-age ---------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["P30D", "P90D", "PT1H", "90d", "2w", 7776000.0])
def test_max_age_accepts_periods_up_to_90_days(preview_pack: PolicyPacks, period: Any) -> None:
    analysis = analyze(preview_pack, rotate_every=period)
    assert messages(analysis, "max-rotation-age") == []


@pytest.mark.parametrize(
    ("period", "says"),
    [
        ("P91D", "rotate_every is longer than the maximum of 90 days; set it to 90 days or less."),
        ("P365D", "rotate_every is longer than the maximum of 90 days"),
        ("365d", "rotate_every is longer than"),  # raw, as when check did not normalise it
        (31536000.0, "rotate_every is longer than"),  # seconds arrive as a float (Struct)
        ("PT2161H", "rotate_every is longer than"),
        (None, "rotate_every is not set"),
        (ABSENT, "rotate_every is not set"),
        ("1y", "rotate_every uses months or years"),
    ],
)
def test_max_age_blocks_longer_or_missing_periods(
    preview_pack: PolicyPacks, period: Any, says: str
) -> None:
    analysis = analyze(preview_pack, rotate_every=period)
    [violation] = by_policy(analysis.violations, "max-rotation-age")
    assert violation.enforcement_level == "mandatory"
    assert violation.severity == "high"
    assert violation.urn == urn("tok")
    description, detail = violation.message.split("\n")
    assert description == violation.description
    assert detail.startswith(says), detail
    assert run_failed(analysis.violations)


def test_a_one_year_period_fails_the_preview_and_is_invalid_in_an_update() -> None:
    with start(dry_run=True) as packs:
        preview = analyze(packs, rotate_every="P365D")
    with start(dry_run=False) as packs:
        update = analyze(packs, rotate_every="P365D")
    assert run_failed(preview.violations)
    assert not preview.invalid(dry_run=True)
    assert update.invalid(dry_run=False)


def test_max_age_cannot_run_on_an_unknown_period_in_preview(preview_pack: PolicyPacks) -> None:
    """pulumi-policy's unknown-checking proxy turns the read into an advisory diagnostic."""
    analysis = analyze(preview_pack, rotate_every=UNKNOWN)
    [violation] = by_policy(analysis.violations, "max-rotation-age")
    assert violation.enforcement_level == "advisory"
    assert "can't be known during preview" in violation.message
    assert ".rotate_every" in violation.message


def test_max_age_is_configurable() -> None:
    with start(policy_config={"max-rotation-age": {"maxAge": "400d"}}) as packs:
        assert messages(analyze(packs, rotate_every="P365D"), "max-rotation-age") == []
        [message] = messages(analyze(packs, rotate_every="P401D"), "max-rotation-age")
    assert message.endswith(
        "rotate_every is longer than the maximum of 400 days; set it to 400 days or less."
    )


def test_max_age_can_be_made_advisory() -> None:
    with start(policy_config={"max-rotation-age": "advisory"}) as packs:
        analysis = analyze(packs, rotate_every="P365D")
    [violation] = by_policy(analysis.violations, "max-rotation-age")
    assert violation.enforcement_level == "advisory"
    assert not run_failed(analysis.violations)


def test_a_max_age_that_is_not_a_duration_is_reported_in_one_sentence() -> None:
    with start(policy_config={"max-rotation-age": {"maxAge": "soon"}}) as packs:
        [message] = messages(analyze(packs), "max-rotation-age")
    assert message.endswith(
        "The policy's maxAge setting 'soon' is not a duration; use a form like \"90m\", "
        '"12h", "30d", "2w", "P30D", "PT12H" or a number of seconds; set maxAge in the policy '
        'pack config to a fixed-length duration such as "90d".'
    )


def test_a_max_age_of_the_wrong_type_fails_config_validation() -> None:
    with pytest.raises(PolicyPackError) as caught:
        start(policy_config={"max-rotation-age": {"maxAge": True}}).close()
    assert str(caught.value).startswith(
        "validating policy config: metal-reset 0.1.0  max-rotation-age: maxAge: True is not of type"
    )


# --- token-never-rotates ------------------------------------------------------------------------


@pytest.mark.parametrize("triggers", [{}, None, ABSENT])
def test_a_token_without_schedule_or_trigger_never_rotates(
    preview_pack: PolicyPacks, triggers: Any
) -> None:
    analysis = analyze(preview_pack, rotate_every=None, rotation_triggers=triggers)
    [violation] = by_policy(analysis.violations, "token-never-rotates")
    assert violation.enforcement_level == "advisory"
    assert violation.message.endswith(
        "This token has neither rotate_every nor rotation_triggers, so the password it manages "
        'never changes after creation; add rotate_every (for example "30d") or a rotation '
        "trigger."
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"rotate_every": None, "rotation_triggers": {"release": secret(TRIGGER_VALUE)}},
        {"rotate_every": None, "rotation_triggers": {"release": ""}},
        {"rotate_every": "P30D", "rotation_triggers": {}},
    ],
)
def test_a_schedule_or_any_trigger_counts_as_rotating(
    preview_pack: PolicyPacks, overrides: dict[str, Any]
) -> None:
    assert messages(analyze(preview_pack, **overrides), "token-never-rotates") == []


# --- allowed-email-domains ----------------------------------------------------------------------


def test_any_domain_is_allowed_by_default(preview_pack: PolicyPacks) -> None:
    assert (
        messages(analyze(preview_pack, email="ops@elsewhere.test"), "allowed-email-domains") == []
    )


@pytest.fixture(scope="module")
def domain_pack() -> Iterator[PolicyPacks]:
    config = {"allowed-email-domains": {"domains": ["example.com", "*.corp.example"]}}
    with start(policy_config=config) as packs:
        yield packs


@pytest.mark.parametrize("email", ["ops@example.com", "a@eu.corp.example", "b@x.y.corp.example"])
def test_allowed_domains_pass(domain_pack: PolicyPacks, email: str) -> None:
    assert messages(analyze(domain_pack, email=email), "allowed-email-domains") == []


@pytest.mark.parametrize(
    ("allowed", "email"),
    [
        ("xn--bcher-kva.example", "ops@bücher.example"),  # check records the Unicode form
        ("bücher.example", "ops@xn--bcher-kva.example"),
        ("*.xn--bcher-kva.example", "ops@eu.bücher.example"),
        ("*.bücher.example", "ops@EU.xn--BCHER-kva.example"),
    ],
)
def test_a_domain_matches_in_its_unicode_and_its_idna_form(allowed: str, email: str) -> None:
    """`rules.domain_allowed`, which the pack's allowed-email-domains applies."""
    assert rules.domain_allowed(rules.email_domain(email), [allowed])
    assert not rules.domain_allowed(rules.email_domain(email), ["xn--other-kva.example"])


@pytest.mark.parametrize(
    "email", ["ops@elsewhere.test", "ops@corp.example", "ops@example.com.evil"]
)
def test_other_domains_are_reported_without_the_address(
    domain_pack: PolicyPacks, email: str
) -> None:
    analysis = analyze(domain_pack, email=email)
    [violation] = by_policy(analysis.violations, "allowed-email-domains")
    assert violation.enforcement_level == "advisory"
    assert violation.message.endswith(
        "The reset email goes to a domain outside the allowed list (example.com, "
        "*.corp.example); mail the token to an address in one of those domains."
    )
    assert email not in violation.message


# --- password-kept-in-state ---------------------------------------------------------------------


def test_password_in_state_is_off_by_default(preview_pack: PolicyPacks) -> None:
    info = {p.name: p for p in preview_pack.packs[0].policies}
    assert info["password-kept-in-state"].enforcement_level == "disabled"
    assert messages(analyze(preview_pack), "password-kept-in-state") == []


@pytest.fixture(scope="module")
def write_only_pack() -> Iterator[PolicyPacks]:
    with start(policy_config={"password-kept-in-state": "mandatory"}) as packs:
        yield packs


@pytest.mark.parametrize("store_password", [ABSENT, None, True])
def test_password_in_state_when_required(write_only_pack: PolicyPacks, store_password: Any) -> None:
    analysis = analyze(write_only_pack, store_password=store_password)
    [violation] = by_policy(analysis.violations, "password-kept-in-state")
    assert violation.enforcement_level == "mandatory"
    assert violation.message.endswith(
        "store_password is true or unset, so each new password is kept (encrypted) in the stack "
        "state; set store_password=False and deliver the password with deliver_to."
    )


def test_write_only_delivery_passes(write_only_pack: PolicyPacks) -> None:
    assert messages(analyze(write_only_pack, store_password=False), "password-kept-in-state") == []


# --- one-token-per-api-user (stack policy) ------------------------------------------------------


def token_outputs(credential: Any) -> dict[str, Any]:
    outputs: dict[str, Any] = {
        "email": "ops@example.com",
        "rotate_every": "P30D",
        "rotation_triggers": {},
        "new_password": secret(PASSWORD),
        "rotation_count": 1.0,
    }
    if credential is not ABSENT:
        outputs["credential_id"] = credential
    return outputs


def test_two_tokens_on_one_api_user_are_reported_on_each(preview_pack: PolicyPacks) -> None:
    resources = [
        StackResource(urn("a"), TOKEN_TYPE, token_outputs("cred-aaaaaaaaaaaaaaaa")),
        StackResource(urn("b"), TOKEN_TYPE, token_outputs("cred-aaaaaaaaaaaaaaaa")),
        StackResource(urn("c"), TOKEN_TYPE, token_outputs("cred-cccccccccccccccc")),
        StackResource(urn("d"), TOKEN_TYPE, token_outputs(UNKNOWN)),
        StackResource(urn("e"), TOKEN_TYPE, token_outputs(UNKNOWN)),
        StackResource(urn("f"), TOKEN_TYPE, token_outputs(None)),
        StackResource(urn("g"), TOKEN_TYPE, token_outputs(None)),
        StackResource(urn("h"), TOKEN_TYPE, token_outputs(ABSENT)),
        StackResource(urn("i"), TOKEN_TYPE, token_outputs(ABSENT)),
        StackResource(
            urn("other", "random:index:RandomPet"),
            "random:index:RandomPet",
            {"credential_id": "cred-aaaaaaaaaaaaaaaa"},
        ),
    ]
    violations = preview_pack.analyze_stack(resources)
    assert [(v.policy_name, v.urn, v.enforcement_level) for v in violations] == [
        ("one-token-per-api-user", urn("a"), "advisory"),
        ("one-token-per-api-user", urn("b"), "advisory"),
    ]
    detail = violations[0].message.split("\n")[1]
    assert detail.startswith("This token uses the same API user as b (the same credential_id);")
    assert "uses the same API user as a (" in violations[1].message


@pytest.mark.parametrize(
    ("pending", "reported"),
    [
        ("delivering to command: pass failed (exit status 1)", True),
        (secret("delivering to command: pass failed"), True),
        (None, False),
        (ABSENT, False),
        (UNKNOWN, False),
    ],
    ids=["set", "secret", "null", "absent", "unknown"],
)
def test_a_password_waiting_for_its_delivery_is_reported(
    preview_pack: PolicyPacks, pending: Any, reported: bool
) -> None:
    """The stack policy reads `delivery_pending` from the outputs; its value, a sentence that
    may quote the sink's output, is never repeated."""
    outputs = token_outputs("cred-aaaaaaaaaaaaaaaa")
    if pending is not ABSENT:
        outputs["delivery_pending"] = pending
    violations = preview_pack.analyze_stack([StackResource(urn("w"), TOKEN_TYPE, outputs)])
    waiting = by_policy(violations, "delivery-pending")
    assert len(waiting) == (1 if reported else 0)
    if reported:
        assert (waiting[0].urn, waiting[0].enforcement_level) == (urn("w"), "advisory")
        assert "The last rotated password was not delivered" in waiting[0].message
        assert "pass failed" not in waiting[0].message


def test_one_token_per_api_user_passes(preview_pack: PolicyPacks) -> None:
    resources = [
        StackResource(urn("a"), TOKEN_TYPE, token_outputs("cred-aaaaaaaaaaaaaaaa")),
        StackResource(urn("b"), TOKEN_TYPE, token_outputs("cred-bbbbbbbbbbbbbbbb")),
    ]
    assert preview_pack.analyze_stack(resources) == []


# --- secrets and the CLI's shape ----------------------------------------------------------------


def test_no_secret_reaches_any_message() -> None:
    """Every policy enabled and failing, every secret-bearing field holding a canary."""
    config = {
        "all": "mandatory",
        "allowed-email-domains": {"domains": ["example.com"]},
        "max-rotation-age": {"maxAge": "1d"},
    }
    with start(policy_config=config) as packs:
        analyses = [
            analyze(packs, "a", rotate_every=None, email="x@elsewhere.test"),
            analyze(
                packs, "b", rotate_every="P30D", rotation_triggers={"t": secret(TRIGGER_VALUE)}
            ),
            analyze(packs, "c", rotate_every=secret("P400D"), email=secret("y@elsewhere.test")),
        ]
        stack = packs.analyze_stack(
            [
                StackResource(urn("a"), TOKEN_TYPE, token_outputs("cred-aaaaaaaaaaaaaaaa")),
                StackResource(
                    urn("b"),
                    TOKEN_TYPE,
                    token_outputs("cred-aaaaaaaaaaaaaaaa")
                    | {"delivery_pending": f"pass printed {PASSWORD}"},
                ),
            ]
        )
        infos = packs.packs
    violations = [v for a in analyses for v in a.violations] + stack
    assert {v.policy_name for v in violations} == {
        "max-rotation-age",
        "token-never-rotates",
        "allowed-email-domains",
        "password-kept-in-state",
        "one-token-per-api-user",
        "delivery-pending",
    }
    shown = render_policies(infos, violations) + "".join(repr(v) for v in violations)
    for canary in (API_TOKEN, TRIGGER_VALUE, PASSWORD, "elsewhere.test", "cred-aaaa", "400"):
        assert canary not in shown


def test_violations_render_as_the_cli_prints_them(preview_pack: PolicyPacks) -> None:
    analysis = analyze(preview_pack, "admin", rotate_every="P365D", rotation_triggers={})
    text = render_policies(preview_pack.packs, analysis.violations)
    assert text == (
        "Policies:\n"
        "    \u274c metal-reset@v0.1.0 (local: " + str(preview_pack.packs[0].path) + ")\n"
        "        - [mandatory] [severity: high]  max-rotation-age  "
        "(pulumi-python:dynamic/metal:PasswordResetToken: admin)\n"
        "          A PasswordResetToken rotates the password on a schedule no longer than the "
        "configured maximum age (maxAge, 90 days by default).\n"
        "          rotate_every is longer than the maximum of 90 days; set it to 90 days or less.\n"
        "\n"
    )


def test_a_clean_resource_renders_a_passing_pack(preview_pack: PolicyPacks) -> None:
    analysis = analyze(preview_pack)
    assert analysis.violations == ()
    assert (
        render_policies(preview_pack.packs, analysis.violations)
        .splitlines()[1]
        .startswith("    \u2705 metal-reset@v0.1.0 (local: ")
    )


def test_pack_metadata_as_the_engine_reads_it(preview_pack: PolicyPacks) -> None:
    [info] = preview_pack.packs
    assert (info.name, info.version, info.supports_config) == ("metal-reset", "0.1.0", True)
    assert [(p.name, p.kind, p.enforcement_level) for p in info.policies] == [
        ("allowed-email-domains", "resource", "advisory"),
        ("delivery-pending", "stack", "advisory"),
        ("max-rotation-age", "resource", "mandatory"),
        ("one-token-per-api-user", "stack", "advisory"),
        ("password-kept-in-state", "resource", "disabled"),
        ("token-never-rotates", "resource", "advisory"),
    ]

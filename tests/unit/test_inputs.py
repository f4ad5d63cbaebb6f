"""Input validation as `check` uses it: normalisation, every failure at once, unknowns untouched."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pulumi_metal_reset.inputs import api_address, validate_inputs
from pulumi_metal_reset.unknowns import UNKNOWN_SENTINEL as UNKNOWN

LOCAL = st.text(string.ascii_letters + string.digits + "+-_.", min_size=1, max_size=30).filter(
    lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s
)
LABEL = st.text(string.ascii_letters + string.digits, min_size=1, max_size=12)


def test_valid_inputs_are_normalised() -> None:
    checked, failures = validate_inputs(
        {
            "email": "Ops+Metal@EXAMPLE.Com",
            "rotate_every": "30d",
            "rotation_triggers": {"ticket": "SEC-12"},
            "rotate_on_create": True,
            "api_url": "http://127.0.0.1:8080/",
        }
    )
    assert failures == []
    assert checked == {
        "email": "Ops+Metal@example.com",
        "rotate_every": "P30D",
        "rotation_triggers": {"ticket": "SEC-12"},
        "rotate_on_create": True,
        "api_url": "http://127.0.0.1:8080/metal/v1",
    }


def test_absent_triggers_equal_empty_ones() -> None:
    absent, _ = validate_inputs({"email": "a@example.com"})
    empty, _ = validate_inputs({"email": "a@example.com", "rotation_triggers": {}})
    assert absent == empty
    assert absent["rotation_triggers"] == {}
    assert absent["rotate_on_create"] is False


@given(LOCAL, LABEL, LABEL)
def test_email_domain_lowercased_local_part_kept(local: str, host: str, tld: str) -> None:
    assume(not tld.isdigit())
    address = f"{local}@{host}.{tld}a"
    checked, failures = validate_inputs({"email": address})
    assert failures == []
    assert checked["email"] == f"{local}@{host.lower()}.{tld.lower()}a"
    again, _ = validate_inputs({"email": checked["email"]})
    assert again["email"] == checked["email"]


@given(st.sampled_from([" ", "\t", "\n", "\r", "\x00", "\x7f", "\u2028", "\u200b"]), LOCAL)
def test_whitespace_and_control_characters_are_refused(bad: str, local: str) -> None:
    _, failures = validate_inputs({"email": f"{local}{bad}x@example.com"})
    assert [f.property for f in failures] == ["email"]


@pytest.mark.parametrize(
    "address",
    [
        "",
        "plain",
        "a@b",
        "@example.com",
        "a@@example.com",
        "a" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_invalid_addresses_are_refused(address: str) -> None:
    _, failures = validate_inputs({"email": address})
    assert len(failures) == 1
    assert failures[0].property == "email"
    assert "email" not in failures[0].reason.split(" ")[0]  # the CLI prints the name already


def test_missing_email_is_required() -> None:
    _, failures = validate_inputs({})
    assert failures[0].property == "email"
    assert failures[0].reason.startswith("is required")


def test_all_failures_are_reported_at_once() -> None:
    _, failures = validate_inputs(
        {
            "email": "nope",
            "rotate_every": "P1M",
            "rotation_triggers": {"n": 3.0},
            "rotate_on_create": "yes",
            "api_url": "http://metal.example.com",
        }
    )
    # Triggers and endpoints may hold secrets: never named, the path opens the reason instead.
    assert [f.property for f in failures] == ["email", "rotate_every", "", "rotate_on_create", ""]
    reasons = {f.field: f.reason for f in failures}
    assert "months or years" in reasons["rotate_every"]
    assert reasons["rotation_triggers"].startswith('rotation_triggers["n"]: is not a string')
    assert reasons["api_url"].startswith("api_url: uses plain http://")
    assert "https://" in reasons["api_url"]
    for failure in failures:
        if failure.property:
            assert not failure.reason.startswith(failure.property)


@pytest.mark.parametrize("token", ["", "   ", 42])
def test_token_problems_never_name_the_property(token: object) -> None:
    """The CLI prints a named property's value; the token's failure names only its path."""
    _, failures = validate_inputs({"email": "a@example.com", "auth_token": token})
    assert len(failures) == 1
    assert failures[0].property == ""
    assert failures[0].reason.startswith("auth_token: is empty or not a string;")


def test_token_value_is_never_in_any_reason() -> None:
    secret = "tok-SECRET-abc123"
    _, failures = validate_inputs(
        {"email": "bad", "auth_token": secret, "rotate_every": "x", "api_url": "ftp://x"}
    )
    assert failures
    assert all(secret not in f.reason for f in failures)


def test_unknown_inputs_pass_through_unvalidated() -> None:
    checked, failures = validate_inputs(
        {"email": UNKNOWN, "rotate_every": UNKNOWN, "rotation_triggers": {"t": UNKNOWN}}
    )
    assert failures == []
    assert checked["email"] == UNKNOWN
    assert checked["rotate_every"] == UNKNOWN
    assert checked["rotation_triggers"] == {"t": UNKNOWN}


def test_unknown_email_does_not_hide_other_failures() -> None:
    _, failures = validate_inputs({"email": UNKNOWN, "rotate_every": "P1Y"})
    assert [f.property for f in failures] == ["rotate_every"]


@given(st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=5))
def test_any_string_map_is_a_valid_trigger_set(triggers: dict[str, str]) -> None:
    checked, failures = validate_inputs({"email": "a@example.com", "rotation_triggers": triggers})
    assert failures == []
    assert checked["rotation_triggers"] == triggers


def test_credentials_in_the_endpoint_are_never_named_or_echoed() -> None:
    """The CLI prints a named property's value; this URL carries a secret, so no name."""
    url = "https://bob:tok-SECRET@api.equinix.com"
    _, failures = validate_inputs({"email": "a@example.com", "api_url": url})
    assert [f.property for f in failures] == [""]
    assert "tok-SECRET" not in failures[0].reason
    assert failures[0].reason.startswith("api_url: embeds credentials")


@pytest.mark.parametrize(
    "url",
    ["user:s3cret@api.example.com", "https:/user:s3cret@api.example.com", "https:user:s3cret@x.io"],
)
def test_malformed_urls_with_credentials_are_not_named_either(url: str) -> None:
    _, failures = validate_inputs({"email": "a@example.com", "api_url": url})
    assert [f.property for f in failures] == [""]
    assert "s3cret" not in failures[0].reason


@pytest.mark.parametrize(
    ("triggers", "path"),
    [
        ({"hash": "s3cret-hash", "ver": 3}, 'rotation_triggers["ver"]: '),
        ({"hash": "s3cret-hash", 'we"ird': True}, 'rotation_triggers["we\\"ird"]: '),
        ("s3cret-hash", "rotation_triggers: "),
        (["s3cret-hash"], "rotation_triggers: "),
    ],
)
def test_trigger_failures_name_the_path_not_the_property(triggers: object, path: str) -> None:
    """Issue 8 §3: the CLI would print the whole map, secret values beside the bad one."""
    _, failures = validate_inputs({"email": "a@example.com", "rotation_triggers": triggers})
    assert len(failures) == 1
    assert failures[0].property == ""
    assert failures[0].reason.startswith(path)
    assert "s3cret" not in failures[0].reason


@pytest.mark.parametrize("url", ["ftp://s3cret.example.com", "not a url s3cret", 42])
def test_endpoint_failures_never_name_the_property(url: object) -> None:
    _, failures = validate_inputs({"email": "a@example.com", "api_url": url})
    assert [f.property for f in failures] == [""]
    assert failures[0].reason.startswith("api_url: ")
    assert "s3cret" not in failures[0].reason


def test_only_properties_that_hold_no_secret_are_named() -> None:
    from pulumi_metal_reset.inputs import NAMED_PROPERTIES

    assert {"email", "rotate_every", "rotate_on_create", "store_password"} == NAMED_PROPERTIES


@pytest.mark.parametrize(
    ("checked", "sent"),
    [
        ("ops@example.com", "ops@example.com"),
        ("Ops+Metal@example.com", "Ops+Metal@example.com"),
        ("ops@bücher.example", "ops@xn--bcher-kva.example"),
        ("ops@faß.de", "ops@xn--fa-hia.de"),  # IDNA 2008, as email-validator: not "fass.de"
        ("用户@bücher.example", "用户@xn--bcher-kva.example"),
    ],
)
def test_the_api_gets_the_ascii_form_of_the_domain(checked: str, sent: str) -> None:
    """Issue 8 §8: the checked email keeps the Unicode domain; the API gets its IDNA form."""
    validated, failures = validate_inputs({"email": checked})
    assert failures == []
    assert validated["email"] == checked
    assert api_address(checked) == sent


def test_both_spellings_of_a_domain_are_one_checked_email() -> None:
    unicode, _ = validate_inputs({"email": "ops@bücher.example"})
    ascii_form, _ = validate_inputs({"email": "ops@xn--bcher-kva.example"})
    assert unicode["email"] == ascii_form["email"] == "ops@bücher.example"


def test_the_space_or_control_check_is_the_unicode_category_rule() -> None:
    """`has_space_or_control` answers, for every code point, what the rule says: whitespace or
    Unicode category C (control, format, surrogate, private use, unassigned)."""
    import sys
    import unicodedata

    from pulumi_metal_reset.inputs import has_space_or_control

    differing = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if has_space_or_control(chr(code))
        != (chr(code).isspace() or unicodedata.category(chr(code)).startswith("C"))
    ]
    assert differing == []

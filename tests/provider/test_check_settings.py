"""Issue 8 §7: `check` judges the settings the coming `up` needs, with `up`'s own sentence.

A create always calls the API; an update does when the email changed or a rotation is due or
triggered. Then a missing token, a malformed or plain-http endpoint, or a bad number fails the
preview, without naming a property (a token could be printed otherwise). A run that calls
nothing needs no token, unknown values are accepted, an overridden setting is never judged, and
nothing here opens a socket (the endpoints below do not exist).
"""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_metal_reset.errors import ConfigurationError
from pulumi_metal_reset.provider import PasswordResetTokenProvider
from pulumi_metal_reset.settings import MISSING_CREDENTIAL
from pulumi_metal_reset.unknowns import UNKNOWN_SENTINEL

from .conftest import make_provider

EMAIL = "ops@example.com"
TOKEN = "tok-SECRET-123"
#: An endpoint nothing listens on: a check that opened a connection would fail or hang here.
NOWHERE = "http://127.0.0.1:9/metal/v1"


def failures(provider: PasswordResetTokenProvider, olds: Any, news: Any) -> list[tuple[str, str]]:
    return [(f.property, f.reason) for f in provider.check(dict(olds), dict(news)).failures]


def up_sentence(provider: PasswordResetTokenProvider, props: dict[str, Any]) -> str:
    """What `up` fails with for the same inputs (create raises before any request)."""
    with pytest.raises(ConfigurationError) as caught:
        provider.create(props)
    return str(caught.value)


def created(provider: PasswordResetTokenProvider, news: dict[str, Any]) -> dict[str, Any]:
    """The old inputs of a resource created with a working token (without calling the API)."""
    working = make_provider({"equinix:endpoint": NOWHERE, "equinix:authToken": TOKEN})
    result = working.check({}, news)
    assert result.failures == []
    return dict(result.inputs)


@pytest.mark.parametrize(
    ("config", "environ", "expected"),
    [
        ({"equinix:endpoint": NOWHERE}, {}, MISSING_CREDENTIAL),
        (
            {"equinix:authToken": TOKEN, "equinix:endpoint": "http://metal.example.com"},
            {},
            "The API endpoint from the stack config equinix:endpoint uses plain http://",
        ),
        (
            {"equinix:authToken": TOKEN},
            {"EQUINIX_API_ENDPOINT": "http://metal.example.com"},
            "The API endpoint from the environment variable EQUINIX_API_ENDPOINT uses plain http://",
        ),
        (
            {"equinix:authToken": TOKEN, "equinix:endpoint": "ftp://metal.example.com"},
            {},
            "The API endpoint from the stack config equinix:endpoint is not an http(s) URL",
        ),
        (
            {"equinix:authToken": TOKEN, "equinix:maxRetries": "many"},
            {},
            "The stack config equinix:maxRetries is 'many', which is not a whole number",
        ),
        (
            {"equinix:authToken": TOKEN},
            {"EQUINIX_API_TIMEOUT": "-1"},
            "The environment variable EQUINIX_API_TIMEOUT is '-1', which is not a number",
        ),
    ],
)
def test_a_create_fails_its_preview_with_ups_sentence(
    config: dict[str, str],
    environ: dict[str, str],
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    provider = make_provider(config)
    found = failures(provider, {}, {"email": EMAIL})
    assert found == [("", up_sentence(provider, {"email": EMAIL}))]
    assert found[0][1].startswith(expected)
    assert TOKEN not in found[0][1]


def test_a_due_or_triggered_rotation_or_an_email_change_is_judged_too() -> None:
    news = {"email": EMAIL, "rotation_triggers": {"t": "1"}}
    olds = created(make_provider({}), news)
    bare = make_provider({"equinix:endpoint": NOWHERE})
    assert failures(bare, olds, news) == []  # nothing to call: no token needed
    trigger = news | {"rotation_triggers": {"t": "2"}}
    assert failures(bare, olds, trigger) == [("", MISSING_CREDENTIAL)]
    moved = news | {"email": "new@example.com"}
    assert failures(bare, olds, moved) == [("", MISSING_CREDENTIAL)]
    # a schedule change alone makes no call
    assert failures(bare, olds, news | {"rotate_every": "30d"}) == []


def test_a_setting_that_an_input_overrides_is_never_judged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EQUINIX_API_ENDPOINT", "http://stale.example.com")
    provider = make_provider({"equinix:endpoint": "also not a url"})
    assert failures(provider, {}, {"email": EMAIL, "auth_token": TOKEN, "api_url": NOWHERE}) == []
    # an input that is still unknown will override them too
    unknown_url = {"email": EMAIL, "auth_token": TOKEN, "api_url": UNKNOWN_SENTINEL}
    assert failures(provider, {}, unknown_url) == []


def test_unknown_values_are_accepted() -> None:
    bare = make_provider({"equinix:endpoint": NOWHERE})
    assert failures(bare, {}, {"email": EMAIL, "auth_token": UNKNOWN_SENTINEL}) == []
    news = {"email": EMAIL, "rotation_triggers": {"t": "1"}}
    olds = created(bare, news)
    maybe = news | {"rotation_triggers": {"t": UNKNOWN_SENTINEL}}
    assert failures(bare, olds, maybe) == []  # cannot tell whether a rotation comes


def test_an_invalid_input_is_reported_once_and_config_is_not_judged_behind_it() -> None:
    provider = make_provider({"equinix:endpoint": "http://metal.example.com"})
    found = failures(provider, {}, {"email": EMAIL, "auth_token": TOKEN, "api_url": "ftp://x"})
    assert len(found) == 1
    assert found[0][1].startswith("api_url: ")


def test_the_token_is_judged_with_a_stand_in_when_only_the_endpoint_is_unknown() -> None:
    bare = make_provider({})
    found = failures(bare, {}, {"email": EMAIL, "api_url": UNKNOWN_SENTINEL})
    assert found == [("", MISSING_CREDENTIAL)]

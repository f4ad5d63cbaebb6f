"""Settings precedence (input > stack config > environment > default) and their error sentences."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_metal_reset.endpoint import DEFAULT_API_URL
from pulumi_metal_reset.errors import ConfigurationError
from pulumi_metal_reset.settings import MISSING_CREDENTIAL, connection_for, token_for

TOKEN = "tok-SECRET-abc123"
WITH_TOKEN = {"equinix:authToken": TOKEN}


def test_defaults() -> None:
    conn = connection_for({}, WITH_TOKEN, {})
    assert conn.api_url == DEFAULT_API_URL
    assert conn.api_url_source == "the default endpoint"
    assert (conn.timeout, conn.max_retries, conn.max_retry_wait) == (30.0, 10, 30.0)


def test_config_beats_environment_and_values_arrive_as_strings() -> None:
    conn = connection_for(
        {},
        {
            "equinix:authToken": "from-config",
            "equinix:endpoint": "http://127.0.0.1:9000",
            "equinix:requestTimeout": "5",
            "equinix:maxRetries": "2",
            "equinix:maxRetryWaitSeconds": "0.5",
        },
        {"METAL_AUTH_TOKEN": "from-env", "EQUINIX_API_ENDPOINT": "https://x.io"},
    )
    assert conn.token.get_secret_value() == "from-config"
    assert conn.token_source == "the stack config equinix:authToken"
    assert conn.api_url == "http://127.0.0.1:9000/metal/v1"
    assert conn.api_url_source == "the stack config equinix:endpoint"
    assert (conn.timeout, conn.max_retries, conn.max_retry_wait) == (5.0, 2, 0.5)


def test_environment_fallbacks() -> None:
    conn = connection_for(
        {},
        {},
        {
            "METAL_AUTH_TOKEN": "from-env",
            "EQUINIX_API_ENDPOINT": "https://proxy.example.com/metal/v1/",
            "EQUINIX_API_TIMEOUT": "12",
        },
    )
    assert conn.token_source == "the environment variable METAL_AUTH_TOKEN"
    assert conn.api_url == "https://proxy.example.com/metal/v1"
    assert conn.api_url_source == "the environment variable EQUINIX_API_ENDPOINT"
    assert conn.timeout == 12.0


def test_resource_inputs_override_everything() -> None:
    conn = connection_for(
        {"auth_token": TOKEN, "api_url": "http://localhost:1"},
        {"equinix:authToken": "cfg", "equinix:endpoint": "https://cfg.example.com"},
        {"METAL_AUTH_TOKEN": "env"},
    )
    assert conn.token.get_secret_value() == TOKEN
    assert conn.token_source == "the resource input auth_token"
    assert conn.api_url == "http://localhost:1/metal/v1"
    assert conn.api_url_source == "the resource input api_url"


def test_only_the_winning_endpoint_is_validated() -> None:
    """A stale environment variable that an input or config overrides never fails a run."""
    broken = {"EQUINIX_API_ENDPOINT": "http://metal.internal"}
    conn = connection_for({"api_url": "http://127.0.0.1:1"}, WITH_TOKEN, broken)
    assert conn.api_url == "http://127.0.0.1:1/metal/v1"
    with pytest.raises(ConfigurationError, match="environment variable EQUINIX_API_ENDPOINT"):
        connection_for({}, WITH_TOKEN, broken)


def test_missing_token_names_all_three_places() -> None:
    with pytest.raises(ConfigurationError) as caught:
        connection_for({}, {}, {})
    assert str(caught.value) == MISSING_CREDENTIAL
    for place in ("auth_token", "equinix:authToken", "METAL_AUTH_TOKEN"):
        assert place in MISSING_CREDENTIAL


@pytest.mark.parametrize(
    ("config", "env", "fragment"),
    [
        ({"equinix:requestTimeout": "abc"}, {}, "The stack config equinix:requestTimeout is 'abc'"),
        ({}, {"EQUINIX_API_TIMEOUT": "-1"}, "The environment variable EQUINIX_API_TIMEOUT"),
        ({"equinix:maxRetries": "2.5"}, {}, "not a whole number"),
        ({"equinix:endpoint": "http://metal.example.com"}, {}, "stack config equinix:endpoint"),
        ({"equinix:endpoint": "https://u:p@x.io"}, {}, "must not embed credentials"),
    ],
)
def test_bad_values_name_their_source(
    config: dict[str, Any], env: dict[str, str], fragment: str
) -> None:
    with pytest.raises(ConfigurationError, match=fragment) as caught:
        connection_for({}, config | WITH_TOKEN, env)
    assert TOKEN not in str(caught.value)
    assert "u:p@" not in str(caught.value)


def test_connection_repr_hides_the_token() -> None:
    conn = connection_for({}, WITH_TOKEN, {})
    assert TOKEN not in repr(conn)
    assert TOKEN not in str(conn)


def test_connection_cannot_be_pickled() -> None:
    import pickle

    conn = connection_for({}, WITH_TOKEN, {})
    with pytest.raises(TypeError, match="must not be pickled") as caught:
        pickle.dumps(conn)
    assert TOKEN not in str(caught.value)


def test_an_empty_config_token_falls_back_to_the_environment() -> None:
    from pulumi_metal_reset.settings import hide_tokens

    config = hide_tokens({"equinix:authToken": ""})
    environ = hide_tokens({"METAL_AUTH_TOKEN": "from-env"})
    conn = connection_for({}, config, environ)
    assert conn.token.get_secret_value() == "from-env"
    assert conn.token_source == "the environment variable METAL_AUTH_TOKEN"


# --- the checks the client used to make, now made once, where settings are resolved ----------


@pytest.mark.parametrize(
    ("token", "says"),
    [("   ", "is empty"), ("tok SECRET", "spaces"), ("tök-SECRET", "spaces"), ("a\tb", "spaces")],
)
def test_unsendable_token_is_a_configuration_error(token: str, says: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        connection_for({}, {"equinix:authToken": token}, {})
    assert says in str(caught.value)
    assert "the stack config equinix:authToken" in str(caught.value)
    if token.strip():
        assert token not in str(caught.value)
    assert caught.value.__cause__ is None


def test_an_empty_token_counts_as_unset() -> None:
    """Empty is "not set" at every level, so it falls through to the next source, then fails."""
    with pytest.raises(ConfigurationError) as caught:
        connection_for({"auth_token": ""}, {"equinix:authToken": ""}, {"METAL_AUTH_TOKEN": ""})
    assert str(caught.value) == MISSING_CREDENTIAL


def test_token_is_trimmed_of_surrounding_whitespace() -> None:
    conn = connection_for({}, {}, {"METAL_AUTH_TOKEN": f"  {TOKEN}\n"})
    assert conn.token.get_secret_value() == TOKEN


@pytest.mark.parametrize(
    ("inputs", "config", "environ"),
    [
        ({"auth_token": TOKEN}, {"equinix:authToken": "cfg"}, {"METAL_AUTH_TOKEN": "env"}),
        ({"auth_token": ""}, {"equinix:authToken": TOKEN}, {"METAL_AUTH_TOKEN": "env"}),
        ({}, {"equinix:authToken": ""}, {"METAL_AUTH_TOKEN": f" {TOKEN} "}),
    ],
)
def test_token_for_resolves_the_token_connection_for_uses(
    inputs: dict[str, Any], config: dict[str, Any], environ: dict[str, Any]
) -> None:
    token, source = token_for(inputs, config, environ)
    conn = connection_for(inputs, config, environ)
    assert (token, source) == (conn.token, conn.token_source)
    assert token.get_secret_value() == TOKEN


def test_token_for_judges_no_other_setting() -> None:
    """A broken endpoint or number fails connection_for, never the token alone."""
    config = WITH_TOKEN | {"equinix:endpoint": "http://metal.internal", "equinix:maxRetries": "x"}
    assert token_for({}, config, {})[0].get_secret_value() == TOKEN
    with pytest.raises(ConfigurationError):
        connection_for({}, config, {})


def test_token_for_fails_with_the_same_sentences() -> None:
    with pytest.raises(ConfigurationError) as caught:
        token_for({}, {}, {})
    assert str(caught.value) == MISSING_CREDENTIAL
    with pytest.raises(ConfigurationError, match="the resource input auth_token contains spaces"):
        token_for({"auth_token": "tok SECRET"}, WITH_TOKEN, {})


@pytest.mark.parametrize(
    "config",
    [
        {"equinix:requestTimeout": "0"},
        {"equinix:requestTimeout": 0},
        {"equinix:requestTimeout": "nan"},
        {"equinix:requestTimeout": float("nan")},
        {"equinix:requestTimeout": "inf"},
        {"equinix:requestTimeout": True},
        {"equinix:maxRetryWaitSeconds": "-1"},
        {"equinix:maxRetryWaitSeconds": float("inf")},
        {"equinix:maxRetries": "-1"},
        {"equinix:maxRetries": True},
        {"equinix:maxRetries": 2.5},
    ],
)
def test_bad_numbers_are_configuration_errors(config: dict[str, Any]) -> None:
    [(key, value)] = config.items()
    with pytest.raises(ConfigurationError) as caught:
        connection_for({}, config | WITH_TOKEN, {})
    assert str(caught.value).startswith(f"The stack config {key} is {str(value)!r}, which is not ")
    assert str(caught.value).endswith("; correct or unset it.")


@pytest.mark.parametrize(("timeout", "connect"), [("30", 10.0), ("2.5", 2.5), ("3600", 10.0)])
def test_connect_timeout_is_the_smaller_of_timeout_and_ten_seconds(
    timeout: str, connect: float
) -> None:
    conn = connection_for({}, WITH_TOKEN | {"equinix:requestTimeout": timeout}, {})
    assert conn.connect_timeout == connect


@pytest.mark.parametrize(
    ("url", "host", "loopback"),
    [
        ("http://127.0.0.1:9", "127.0.0.1", True),
        ("http://[::1]:9", "::1", True),
        ("http://LOCALHOST:9", "localhost", True),
        ("https://api.equinix.com", "api.equinix.com", False),
    ],
)
def test_connection_knows_its_host(url: str, host: str, loopback: bool) -> None:
    conn = connection_for({"api_url": url}, WITH_TOKEN, {})
    assert (conn.host, conn.loopback) == (host, loopback)

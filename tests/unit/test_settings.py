"""Settings precedence (input > stack config > environment > default) and their error sentences."""

from __future__ import annotations

import pytest

from pulumi_metal_reset.endpoint import DEFAULT_API_URL
from pulumi_metal_reset.errors import ConfigurationError
from pulumi_metal_reset.settings import connection_for, resolve_settings

TOKEN = "tok-SECRET-abc123"


def test_defaults() -> None:
    settings = resolve_settings({}, {})
    assert settings.api_url == DEFAULT_API_URL
    assert (settings.timeout, settings.max_retries, settings.max_retry_wait) == (30.0, 10, 30.0)
    assert settings.token is None


def test_config_beats_environment_and_values_arrive_as_strings() -> None:
    settings = resolve_settings(
        {
            "equinix:authToken": "from-config",
            "equinix:endpoint": "http://127.0.0.1:9000",
            "equinix:requestTimeout": "5",
            "equinix:maxRetries": "2",
            "equinix:maxRetryWaitSeconds": "0.5",
        },
        {"METAL_AUTH_TOKEN": "from-env", "EQUINIX_API_ENDPOINT": "https://x.io"},
    )
    assert settings.token is not None
    assert settings.token.get_secret_value() == "from-config"
    assert settings.token_source == "the stack config equinix:authToken"
    assert settings.api_url == "http://127.0.0.1:9000/metal/v1"
    assert (settings.timeout, settings.max_retries, settings.max_retry_wait) == (5.0, 2, 0.5)


def test_environment_fallbacks() -> None:
    settings = resolve_settings(
        {},
        {
            "METAL_AUTH_TOKEN": "from-env",
            "EQUINIX_API_ENDPOINT": "https://proxy.example.com/metal/v1/",
            "EQUINIX_API_TIMEOUT": "12",
        },
    )
    assert settings.token_source == "the environment variable METAL_AUTH_TOKEN"
    assert settings.api_url == "https://proxy.example.com/metal/v1"
    assert settings.api_url_source == "the environment variable EQUINIX_API_ENDPOINT"
    assert settings.timeout == 12.0


def test_resource_inputs_override_everything() -> None:
    settings = resolve_settings({"equinix:authToken": "cfg"}, {})
    conn = connection_for(settings, {"auth_token": TOKEN, "api_url": "http://localhost:1"})
    assert conn.token.get_secret_value() == TOKEN
    assert conn.token_source == "the resource input auth_token"
    assert conn.api_url == "http://localhost:1/metal/v1"


def test_missing_token_names_all_three_places() -> None:
    with pytest.raises(ConfigurationError) as caught:
        connection_for(resolve_settings({}, {}), {})
    message = str(caught.value)
    for place in ("auth_token", "equinix:authToken", "METAL_AUTH_TOKEN"):
        assert place in message


@pytest.mark.parametrize(
    ("config", "env", "fragment"),
    [
        ({"equinix:requestTimeout": "abc"}, {}, "The stack config equinix:requestTimeout is 'abc'"),
        ({}, {"EQUINIX_API_TIMEOUT": "-1"}, "The environment variable EQUINIX_API_TIMEOUT"),
        ({"equinix:maxRetries": "2.5"}, {}, "not a whole number"),
        ({"equinix:endpoint": "http://metal.example.com"}, {}, "stack config equinix:endpoint"),
    ],
)
def test_bad_values_name_their_source(
    config: dict[str, str], env: dict[str, str], fragment: str
) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        resolve_settings(config, env)


def test_settings_repr_hides_the_token() -> None:
    settings = resolve_settings({"equinix:authToken": TOKEN}, {})
    assert TOKEN not in repr(settings)
    assert TOKEN not in repr(connection_for(settings, {}))

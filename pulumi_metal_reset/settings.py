"""Connection settings from the keys pulumi-equinix users already have, each with its source.

Precedence: resource input, then stack config, then environment, then default. Only the value
that wins is validated, and only when an API call needs it, so a stale variable that an input
overrides, or a run that calls nothing, never fails. Every value keeps a phrase naming where it
came from, so an error can tell the user what to fix. No HTTP, no Pulumi.

This is the one place where connection settings are validated: the client takes the resolved
`Connection` and checks nothing again.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, Final, TypeVar

from pydantic_core import SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from pulumi_metal_reset import endpoint
from pulumi_metal_reset.connection import Connection, Secret, reveal
from pulumi_metal_reset.errors import ConfigurationError

__all__ = ["CONFIG_KEYS", "ENV_KEYS", "Connection", "connection_for", "hide_tokens", "token_for"]

T = TypeVar("T")

CONFIG_KEYS = (
    "equinix:authToken",
    "equinix:endpoint",
    "equinix:requestTimeout",
    "equinix:maxRetries",
    "equinix:maxRetryWaitSeconds",
)
ENV_KEYS = ("METAL_AUTH_TOKEN", "EQUINIX_API_ENDPOINT", "EQUINIX_API_TIMEOUT")

# The schemas `TypeAdapter(Annotated[float, Field(gt=0, le=3600)])` and its kind compile to, given
# to pydantic-core directly: the same validation (strings such as "5" accepted, ranges checked)
# without loading pydantic's Python layer into the provider process for three numbers.
_TIMEOUT = SchemaValidator(cs.float_schema(gt=0, le=3600))
_RETRIES = SchemaValidator(cs.int_schema(ge=0, le=100))
_WAIT = SchemaValidator(cs.float_schema(ge=0, le=3600))

#: Visible ASCII, "!" to "~": what an HTTP header value may hold without quoting or spaces.
_HEADER_SAFE: Final = re.compile(r"[!-~]+")

MISSING_CREDENTIAL = (
    "No Equinix Metal API token is set; set the resource input auth_token, the stack config "
    "equinix:authToken (pulumi config set --secret equinix:authToken <token>), or the "
    "environment variable METAL_AUTH_TOKEN."
)


def hide_tokens(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy whose token entries are `Secret`s, for keeping settings where a repr can see them."""
    hidden = {"equinix:authToken", "METAL_AUTH_TOKEN"}
    return {
        key: (Secret(str(value)) if value else None) if key in hidden else value
        for key, value in values.items()
    }


def _winner(
    inputs: Mapping[str, Any],
    config: Mapping[str, Any],
    environ: Mapping[str, Any],
    names: tuple[str | None, str, str | None],
) -> tuple[Any, str] | None:
    """The first set value among input, stack config and environment, with its source."""
    field_name, key, env = names
    if field_name is not None and inputs.get(field_name):
        return inputs[field_name], f"the resource input {field_name}"
    if config.get(key) not in (None, ""):
        return config[key], f"the stack config {key}"
    if env is not None and environ.get(env):
        return environ[env], f"the environment variable {env}"
    return None


def _number(
    validator: SchemaValidator, found: tuple[Any, str] | None, default: T, expected: str
) -> T:
    if found is None:
        return default
    value, source = found
    try:
        if isinstance(value, bool):  # pydantic's lax mode would read True as 1
            raise ValueError
        number: T = validator.validate_python(value, strict=False)
        return number
    except (ValidationError, ValueError):
        raise ConfigurationError(
            f"{source[0].upper()}{source[1:]} is {str(value)!r}, which is not {expected}; "
            "correct or unset it."
        ) from None


@functools.lru_cache(maxsize=64)
def _normalised(value: str) -> str:
    """`endpoint.normalise_api_url`, remembered: every call resolves the same few endpoints
    again (check resolves them twice), and parsing one costs more than the rest of a call's
    settings. A ValueError is raised again each time, never remembered."""
    return endpoint.normalise_api_url(value)


def _url(value: str, source: str) -> str:
    try:
        return _normalised(value)
    except ValueError as err:
        raise ConfigurationError(f"The API endpoint from {source} {err}.") from None


def _token(value: Any, source: str) -> Secret:
    """The token stripped of surrounding whitespace; it must fit in an HTTP header as it is.

    A header value must be visible ASCII: requests would otherwise refuse it with an error that
    quotes the value, and a token with spaces inside is a copy-paste accident anyway.
    """
    text = reveal(value).strip()
    if not text:
        raise ConfigurationError(
            f"The API token from {source} is empty; set it to an Equinix Metal user API key."
        )
    if not _HEADER_SAFE.fullmatch(text):
        raise ConfigurationError(
            f"The API token from {source} contains spaces or characters that cannot be sent in "
            "an HTTP header; copy the API key again without extra characters."
        )
    return Secret(text)


def token_for(
    inputs: Mapping[str, Any], config: Mapping[str, Any], environ: Mapping[str, Any]
) -> tuple[Secret, str]:
    """The API token a call would use, validated, and the phrase naming where it came from.

    Input, then stack config, then environment, as `connection_for` resolves it; no other
    setting is read, so a caller that needs only the token is never failed by another one.
    Raises ConfigurationError with one sentence when no token is set or the one set is unusable.
    """
    found = _winner(
        inputs, config, environ, ("auth_token", "equinix:authToken", "METAL_AUTH_TOKEN")
    )
    if found is None:
        raise ConfigurationError(MISSING_CREDENTIAL)
    value, source = found
    return _token(value, source), source


def connection_for(
    inputs: Mapping[str, Any], config: Mapping[str, Any], environ: Mapping[str, Any]
) -> Connection:
    """Resolve and validate what a call needs; raise ConfigurationError before any request.

    `config` holds stack config values as the engine sends them (strings, namespaced keys);
    token values may already be wrapped in `Secret`, as the provider keeps them. Every error is
    one sentence naming the setting's source, raised without a chained cause.
    """
    url = _winner(inputs, config, environ, ("api_url", "equinix:endpoint", "EQUINIX_API_ENDPOINT"))
    api_url, api_url_source = endpoint.DEFAULT_API_URL, "the default endpoint"
    if url is not None:
        api_url, api_url_source = _url(str(url[0]), url[1]), url[1]
    token, token_source = token_for(inputs, config, environ)
    return Connection(
        api_url=api_url,
        api_url_source=api_url_source,
        token=token,
        token_source=token_source,
        timeout=_number(
            _TIMEOUT,
            _winner({}, config, environ, (None, "equinix:requestTimeout", "EQUINIX_API_TIMEOUT")),
            30.0,
            "a number of seconds between 0 and 3600",
        ),
        max_retries=_number(
            _RETRIES,
            _winner({}, config, environ, (None, "equinix:maxRetries", None)),
            10,
            "a whole number between 0 and 100",
        ),
        max_retry_wait=_number(
            _WAIT,
            _winner({}, config, environ, (None, "equinix:maxRetryWaitSeconds", None)),
            30.0,
            "a number of seconds between 0 and 3600",
        ),
    )

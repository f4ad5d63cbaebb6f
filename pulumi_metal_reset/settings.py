"""Provider settings from the keys pulumi-equinix users already have, each with its source.

Precedence: resource input, then stack config, then environment, then default. Every value keeps
a phrase naming where it came from, so an error can tell the user what to fix. No HTTP, no Pulumi.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pydantic import Field, SecretStr, TypeAdapter, ValidationError

from pulumi_metal_reset import endpoint
from pulumi_metal_reset.errors import ConfigurationError

__all__ = ["Connection", "ProviderSettings", "connection_for", "resolve_settings"]

T = TypeVar("T")

_TIMEOUT = TypeAdapter(Annotated[float, Field(gt=0, le=3600)])
_RETRIES = TypeAdapter(Annotated[int, Field(ge=0, le=100)])
_WAIT = TypeAdapter(Annotated[float, Field(ge=0, le=3600)])

MISSING_CREDENTIAL = (
    "No Equinix Metal API token is set; set the resource input auth_token, the stack config "
    "equinix:authToken (pulumi config set --secret equinix:authToken <token>), or the "
    "environment variable METAL_AUTH_TOKEN."
)


@dataclass(frozen=True)
class ProviderSettings:
    """Settings resolved once per provider process, in `configure`."""

    api_url: str
    api_url_source: str
    token: SecretStr | None
    token_source: str | None
    timeout: float
    max_retries: int
    max_retry_wait: float


@dataclass(frozen=True)
class Connection:
    """What one API call needs: the settings with a resource's own overrides applied."""

    api_url: str
    api_url_source: str
    token: SecretStr
    token_source: str
    timeout: float
    max_retries: int
    max_retry_wait: float


def _first(
    config: Mapping[str, Any], environ: Mapping[str, str], key: str, env: str | None
) -> tuple[Any, str] | None:
    value = config.get(key)
    if value not in (None, ""):
        return value, f"the stack config {key}"
    if env is not None and environ.get(env):
        return environ[env], f"the environment variable {env}"
    return None


def _number(adapter: TypeAdapter[T], found: tuple[Any, str] | None, default: T, expected: str) -> T:
    if found is None:
        return default
    value, source = found
    try:
        return adapter.validate_python(value, strict=False)
    except ValidationError:
        raise ConfigurationError(
            f"{source[0].upper()}{source[1:]} is {str(value)!r}, which is not {expected}; "
            "correct or unset it."
        ) from None


def resolve_settings(config: Mapping[str, Any], environ: Mapping[str, str]) -> ProviderSettings:
    """Read stack config (string values, namespaced keys) and environment; raise on bad values."""
    url = _first(config, environ, "equinix:endpoint", "EQUINIX_API_ENDPOINT")
    api_url, api_url_source = (endpoint.DEFAULT_API_URL, "the default endpoint")
    if url is not None:
        api_url, api_url_source = _url(str(url[0]), url[1]), url[1]
    token = _first(config, environ, "equinix:authToken", "METAL_AUTH_TOKEN")
    return ProviderSettings(
        api_url=api_url,
        api_url_source=api_url_source,
        token=SecretStr(str(token[0])) if token else None,
        token_source=token[1] if token else None,
        timeout=_number(
            _TIMEOUT,
            _first(config, environ, "equinix:requestTimeout", "EQUINIX_API_TIMEOUT"),
            30.0,
            "a number of seconds between 0 and 3600",
        ),
        max_retries=_number(
            _RETRIES,
            _first(config, environ, "equinix:maxRetries", None),
            10,
            "a whole number between 0 and 100",
        ),
        max_retry_wait=_number(
            _WAIT,
            _first(config, environ, "equinix:maxRetryWaitSeconds", None),
            30.0,
            "a number of seconds between 0 and 3600",
        ),
    )


def _url(value: str, source: str) -> str:
    try:
        return endpoint.normalise_api_url(value)
    except ValueError as err:
        raise ConfigurationError(f"The endpoint from {source} {err}.") from None


def connection_for(settings: ProviderSettings, inputs: Mapping[str, Any]) -> Connection:
    """Apply a resource's `api_url` and `auth_token` inputs; raise when no token is anywhere."""
    api_url, api_url_source = settings.api_url, settings.api_url_source
    if inputs.get("api_url"):
        api_url = _url(str(inputs["api_url"]), "the resource input api_url")
        api_url_source = "the resource input api_url"
    token, token_source = settings.token, settings.token_source
    if inputs.get("auth_token"):
        token, token_source = SecretStr(str(inputs["auth_token"])), "the resource input auth_token"
    if token is None or token_source is None:
        raise ConfigurationError(MISSING_CREDENTIAL)
    return Connection(
        api_url=api_url,
        api_url_source=api_url_source,
        token=token,
        token_source=token_source,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        max_retry_wait=settings.max_retry_wait,
    )

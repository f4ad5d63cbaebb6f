"""Validation of PasswordResetToken inputs (pydantic v2), used by the provider's `check`.

Knows nothing of HTTP or Pulumi: it takes plain values and returns normalised values plus every
failure at once, each reason worded to follow the CLI's "property <p> value <v> has a problem: ".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, NamedTuple

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictStr,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from pulumi_metal_reset import endpoint, schedule

__all__ = ["FIELDS", "UNKNOWN", "Failure", "is_unknown", "validate_inputs"]

#: The value an input has on the wire while it is still unknown during a preview. Equal to
#: `pulumi.runtime.rpc.UNKNOWN`; copied so this module stays free of Pulumi (a test checks it).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

FIELDS = ("email", "rotate_every", "rotation_triggers", "rotate_on_create", "auth_token", "api_url")

#: Failures on the token are reported without a property name: the CLI prints a named
#: property's value, and this one is a secret.
TOKEN_PROPERTY = ""

_CREDENTIAL_PLACES = (
    "the stack config equinix:authToken or the environment variable METAL_AUTH_TOKEN"
)


class Failure(NamedTuple):
    property: str
    reason: str


def is_unknown(value: Any) -> bool:
    """True when the value, or anything inside it, is still unknown."""
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(v) for v in value)
    return False


def _custom(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _email(value: Any) -> str:
    # Imported here: only check needs it, and the provider process should start fast.
    from email_validator import EmailNotValidError, validate_email

    if not isinstance(value, str):
        raise _custom("email", "must be a string holding an email address")
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in value):
        raise _custom("email", "must not contain spaces or control characters")
    try:
        checked = validate_email(value, check_deliverability=False, strict=True)
    except EmailNotValidError as err:
        detail = str(err).rstrip(".")
        raise _custom(
            "email", f"is not a valid email address ({detail}); give one such as ops@example.com"
        ) from None
    return str(checked.normalized)


def _duration(value: Any) -> str:
    try:
        return schedule.format_duration(schedule.parse_duration(value))
    except ValueError as err:
        raise _custom("duration", str(err)) from None


def _api_url(value: Any) -> str:
    if not isinstance(value, str):
        raise _custom("url", "must be a string holding a URL such as https://api.equinix.com")
    try:
        return endpoint.normalise_api_url(value)
    except ValueError as err:
        if endpoint.has_credentials(value):
            # Reported without the property name: the CLI would print the URL, credentials too.
            raise _custom(
                "url_credentials",
                "The API endpoint given to this resource embeds credentials; remove them from "
                "the URL and pass the API token as auth_token.",
            ) from None
        raise _custom("url", str(err)) from None


def _token(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _custom(
            "token",
            "The API token given to this resource is empty or not a string; pass a non-empty "
            f"token, or leave it unset to use {_CREDENTIAL_PLACES}.",
        )
    return value


class _Inputs(BaseModel):
    """Every field optional here: unknown fields are left out, and `email` is required by hand."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    email: Annotated[str, BeforeValidator(_email)] | None = None
    rotate_every: Annotated[str, BeforeValidator(_duration)] | None = None
    rotation_triggers: dict[str, StrictStr] | None = None
    rotate_on_create: StrictBool | None = None
    auth_token: Annotated[str, BeforeValidator(_token)] | None = None
    api_url: Annotated[str, BeforeValidator(_api_url)] | None = None


_TYPE_REASONS = {
    "dict_type": "must be a map of names to strings",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
}


def _reason(error: Any) -> Failure:
    loc = error["loc"]
    field = str(loc[0])
    if field == "auth_token" or error["type"] == "url_credentials":
        return Failure(TOKEN_PROPERTY, error["msg"])
    if field == "rotation_triggers" and len(loc) > 1:
        return Failure(
            field,
            f'maps "{loc[1]}" to something that is not a string; quote the value, '
            'for example "3" rather than 3',
        )
    return Failure(field, _TYPE_REASONS.get(error["type"], error["msg"]))


def validate_inputs(news: Mapping[str, Any]) -> tuple[dict[str, Any], list[Failure]]:
    """Normalise the known inputs, pass unknown ones through untouched, and collect failures."""
    unknown = {k: news[k] for k in FIELDS if k in news and is_unknown(news[k])}
    known = {k: news[k] for k in FIELDS if k in news and k not in unknown}
    failures: list[Failure] = []
    try:
        model = _Inputs.model_validate(known)
    except ValidationError as err:
        failures.extend(_reason(e) for e in err.errors())
        model = _Inputs.model_validate({k: v for k, v in known.items() if _valid_field(k, v)})
    if model.email is None and "email" not in unknown and not _failed("email", failures):
        failures.append(Failure("email", "is required; give the address to mail the token to"))

    checked: dict[str, Any] = {
        "email": model.email,
        "rotate_every": model.rotate_every,
        "rotation_triggers": dict(model.rotation_triggers or {}),
        "rotate_on_create": bool(model.rotate_on_create),
    }
    if model.auth_token is not None:
        checked["auth_token"] = model.auth_token
    if model.api_url is not None:
        checked["api_url"] = model.api_url
    checked.update(unknown)
    return checked, failures


def _valid_field(name: str, value: Any) -> bool:
    try:
        _Inputs.model_validate({name: value})
    except ValidationError:
        return False
    return True


def _failed(name: str, failures: list[Failure]) -> bool:
    return any(f.property == name for f in failures)

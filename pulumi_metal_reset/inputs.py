"""Validation of PasswordResetToken inputs (pydantic-core), used by the provider's `check`.

Knows nothing of HTTP or Pulumi: it takes plain values and returns normalised values plus every
failure at once. The CLI prints a failure as "property <p> value <v> has a problem: <reason>",
printing the value of any property a failure names, secret or not. So a failure names only a
property whose value is never secret by its meaning (`NAMED_PROPERTIES`); every other one leaves
the property empty and starts its reason with the path, e.g. `rotation_triggers["ver"]: ...`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic_core import PydanticCustomError, SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from pulumi_metal_reset import endpoint, schedule
from pulumi_metal_reset.state import DELIVERY_INPUT_NAMES, INPUT_NAMES
from pulumi_metal_reset.unknowns import is_unknown

__all__ = ["NAMED_PROPERTIES", "Failure", "api_address", "validate_inputs"]

#: The inputs a failure may name: an address, a period and two flags hold no secret by their
#: meaning. Triggers often carry hashes of secrets, the token is one, an endpoint may embed
#: credentials, and `deliver_to` holds a command's environment, so failures on those never
#: name them.
NAMED_PROPERTIES: Final = frozenset({"email", "rotate_every", "rotate_on_create", "store_password"})

_CREDENTIAL_PLACES = (
    "the stack config equinix:authToken or the environment variable METAL_AUTH_TOKEN"
)


@dataclass(frozen=True)
class Failure:
    """One problem with one input, worded to follow the CLI's "has a problem: "."""

    field: str
    """The input it concerns."""
    path: str
    """Where inside it, e.g. `rotation_triggers["ver"]`; the field itself for a whole value."""
    detail: str
    """What is wrong and what to do, without the path."""

    @property
    def reason(self) -> str:
        return self.detail if self.property else f"{self.path}: {self.detail}"

    # Defined last: inside the class body this name shadows the built-in decorator.
    @property
    def property(self) -> str:
        """The property the CheckFailure names: empty unless its value can never be secret."""
        return self.field if self.field in NAMED_PROPERTIES else ""


def _custom(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def has_space_or_control(value: str) -> bool:
    """True when `value` holds whitespace or a character of Unicode category C (control,
    format, surrogate, private use, unassigned).

    `str.isprintable()` is False exactly for categories C and Z, the ASCII space excepted, and
    every Z character is whitespace: so one call in C and a look for " " decide it, instead of
    a category lookup per character (tests/unit/test_inputs.py checks every code point).
    """
    return not value.isprintable() or " " in value


def _email(value: Any) -> str:
    # Imported here: only check needs it, and the provider process should start fast.
    from email_validator import EmailNotValidError, validate_email

    if not isinstance(value, str):
        raise _custom("email", "must be a string holding an email address")
    if has_space_or_control(value):
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
            raise _custom(
                "url",
                "embeds credentials; remove them from the URL and pass the API token as auth_token",
            ) from None
        raise _custom("url", str(err)) from None


def _token(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _custom(
            "token",
            "is empty or not a string; pass a non-empty token, or leave it unset to use "
            f"{_CREDENTIAL_PLACES}",
        )
    return value


def _optional(schema: cs.CoreSchema) -> cs.TypedDictField:
    """A field that may be absent or null, as `field: X | None = None` on a model."""
    return cs.typed_dict_field(cs.nullable_schema(schema), required=False)


def _string_after(function: Any) -> cs.CoreSchema:
    """`Annotated[str, BeforeValidator(function)]`: the function, then a str check."""
    return cs.no_info_before_validator_function(function, cs.str_schema())


# The inputs' shape in pydantic-core's schema language, which is what a pydantic `BaseModel`
# compiles its fields into: the same validation and the same errors, built here directly so
# that the provider process's first Check does not load pydantic's Python layer (about 40 ms
# CPU and 4 MiB). Every field is optional here: unknown keys are ignored, and `email` is
# required by hand. The validator returns a plain dict holding the fields that were given.
_INPUTS = SchemaValidator(
    cs.typed_dict_schema(
        {
            "email": _optional(_string_after(_email)),
            "rotate_every": _optional(_string_after(_duration)),
            # dict[str, StrictStr]: a number as a trigger value is refused, not converted.
            "rotation_triggers": _optional(
                cs.dict_schema(
                    keys_schema=cs.str_schema(), values_schema=cs.str_schema(strict=True)
                )
            ),
            "rotate_on_create": _optional(cs.bool_schema(strict=True)),  # StrictBool
            "auth_token": _optional(_string_after(_token)),
            "api_url": _optional(_string_after(_api_url)),
        },
        extra_behavior="ignore",
    )
)


#: What `validate_inputs` judges; the delivery inputs are `delivery.models`' to judge.
_VALIDATED: Final = tuple(name for name in INPUT_NAMES if name not in DELIVERY_INPUT_NAMES)

_TYPE_REASONS = {
    "dict_type": "must be a map of names to strings",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
}


def _failure(error: Any) -> Failure:
    loc = error["loc"]
    field = str(loc[0])
    if field == "rotation_triggers" and len(loc) > 1:
        return Failure(
            field,
            f"{field}[{json.dumps(str(loc[1]))}]",
            'is not a string; quote it, for example "3" rather than 3',
        )
    return Failure(field, field, _TYPE_REASONS.get(error["type"], error["msg"]))


def validate_inputs(news: Mapping[str, Any]) -> tuple[dict[str, Any], list[Failure]]:
    """Normalise the known inputs, pass unknown ones through untouched, and collect failures."""
    unknown = {k: news[k] for k in _VALIDATED if k in news and is_unknown(news[k])}
    known = {k: news[k] for k in _VALIDATED if k in news and k not in unknown}
    failures: list[Failure] = []
    try:
        valid: dict[str, Any] = _INPUTS.validate_python(known)
    except ValidationError as err:
        failures.extend(_failure(e) for e in err.errors())
        valid = _INPUTS.validate_python({k: v for k, v in known.items() if _valid_field(k, v)})
    email = valid.get("email")
    if email is None and "email" not in unknown and not _failed("email", failures):
        failures.append(
            Failure("email", "email", "is required; give the address to mail the token to")
        )

    checked: dict[str, Any] = {
        "email": email,
        "rotate_every": valid.get("rotate_every"),
        "rotation_triggers": dict(valid.get("rotation_triggers") or {}),
        "rotate_on_create": bool(valid.get("rotate_on_create")),
    }
    for name in ("auth_token", "api_url"):
        if valid.get(name) is not None:
            checked[name] = valid[name]
    checked.update(unknown)
    return checked, failures


def api_address(email: str) -> str:
    """The address as the API gets it: a checked address with its domain in ASCII (IDNA) form.

    `check` keeps the domain's Unicode form, as the user wrote it and as 0.1.0 recorded it; both
    spellings of one domain normalise to the same checked value. The API gets the IDNA form
    (`bücher.example` as `xn--bcher-kva.example`): the one every DNS resolver and mail server
    accepts, with no SMTPUTF8 needed for the domain. A non-ASCII local part is sent as it is.
    """
    domain = email.rpartition("@")[2]
    if domain.isascii():
        return email
    from email_validator import EmailNotValidError, validate_email

    try:
        ascii_domain = validate_email(email, check_deliverability=False, strict=True).ascii_domain
    except EmailNotValidError:
        return email
    return email[: len(email) - len(domain)] + ascii_domain


def _valid_field(name: str, value: Any) -> bool:
    try:
        _INPUTS.validate_python({name: value})
    except ValidationError:
        return False
    return True


def _failed(name: str, failures: list[Failure]) -> bool:
    return any(f.field == name for f in failures)

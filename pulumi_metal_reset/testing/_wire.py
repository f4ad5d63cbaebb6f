"""Property values as the engine sees them on the wire: secrets, unknowns, Struct conversion.

Values are kept in their wire form (plain JSON-like Python values, secrets as the signature dict,
unknowns as the sentinel string) so state files and provider requests stay byte-faithful.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from google.protobuf import struct_pb2

SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 (a type tag)
UNKNOWN_SENTINEL: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

PropertyMap = dict[str, Any]


class Secret:
    """A secret value in a test result: prints as ``[secret]``; ``reveal()`` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def reveal(self) -> Any:
        """The plain value, on explicit request only."""
        return self._value

    def __repr__(self) -> str:
        return "[secret]"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", repr(self._value)))


class _Unknown:
    """The value of an output that is not known yet (preview); prints as the CLI does."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "output<string>"

    __str__ = __repr__


#: The single unknown value in test results.
UNKNOWN: Final = _Unknown()


def is_secret(value: Any) -> bool:
    """True for the wire's secret wrapper dict."""
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def is_unknown(value: Any) -> bool:
    """True for the wire's unknown sentinel."""
    return isinstance(value, str) and value == UNKNOWN_SENTINEL


def make_secret(value: Any) -> Any:
    """Wrap a value as a secret (idempotent)."""
    return value if is_secret(value) else {SIG_KEY: SECRET_SIG, "value": value}


def strip_secrets(value: Any) -> Any:
    """Remove every secret wrapper, recursively (what the engine does for acceptSecrets=False)."""
    if is_secret(value):
        return strip_secrets(value.get("value"))
    if isinstance(value, dict):
        return {k: strip_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_secrets(v) for v in value]
    return value


def contains_secrets(value: Any) -> bool:
    """True when a secret wrapper appears anywhere in the value."""
    if is_secret(value):
        return True
    if isinstance(value, dict):
        return any(contains_secrets(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secrets(v) for v in value)
    return False


def annotate_secrets(outs: PropertyMap, ins: Mapping[str, Any]) -> PropertyMap:
    """Mark outputs secret where the input of the same name held a secret.

    Mirrors the provider plugin's ``annotateSecrets`` (for providers that answer
    acceptSecrets=false): objects present on both sides are walked into, so one secret field does
    not taint a whole object; anything else becomes secret as a whole.
    """
    result = dict(outs)
    for key, in_value in ins.items():
        if key not in result:
            continue
        out_value = result[key]
        in_plain = in_value.get("value") if is_secret(in_value) else in_value
        if (
            isinstance(out_value, dict)
            and not is_secret(out_value)
            and isinstance(in_plain, dict)
            and not is_secret(in_value)
        ):
            result[key] = annotate_secrets(out_value, in_plain)
        elif not is_secret(out_value) and contains_secrets(in_value):
            result[key] = make_secret(out_value)
    return result


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """A property map as a protobuf Struct (numbers become floats, as on the real wire)."""
    struct = struct_pb2.Struct()
    struct.update(dict(props))
    return struct


def from_value(value: struct_pb2.Value) -> Any:
    """A protobuf Value as a plain Python value."""
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return from_struct(value.struct_value)
    if kind == "list_value":
        return [from_value(v) for v in value.list_value.values]
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        return value.number_value
    if kind == "bool_value":
        return value.bool_value
    return None


def from_struct(struct: struct_pb2.Struct) -> PropertyMap:
    """A protobuf Struct as a plain dict."""
    return {k: from_value(v) for k, v in struct.fields.items()}


def to_display(value: Any) -> Any:
    """Wire form to test-result form: secrets as :class:`Secret`, unknowns as :data:`UNKNOWN`."""
    if is_secret(value):
        return Secret(to_display(value.get("value")))
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: to_display(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_display(v) for v in value]
    return value


def go_number(value: float) -> str:
    """A float64 as Go's ``%v`` prints it: shortest digits, ``%e`` form below 1e-4 and from 1e6."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    text = repr(abs(value))  # the shortest digits that round-trip, as Go's strconv picks them
    mantissa, _, power = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0").rstrip("0") or "0"
    if whole.strip("0"):
        point = len(whole.lstrip("0")) + int(power or 0)
    else:
        point = int(power or 0) - (len(fraction) - len(fraction.lstrip("0")))
    exponent = point - 1
    if exponent < -4 or exponent >= 6:  # strconv's 'g' with the shortest precision uses 6
        head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{head}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _go_v(value: Any) -> str:
    """Go's ``%v`` of a PropertyValue's underlying ``V`` (nested values print via String())."""
    if is_secret(value):
        return "&{" + go_string(value.get("value")) + "}"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return go_number(float(value))
    if isinstance(value, list):
        return "[" + " ".join(go_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_string(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def go_string(value: Any) -> str:
    """A wire value as the engine's ``PropertyValue.String()`` prints it (``{bar}``, ``{42}``).

    This is what the CLI shows in a Check failure (``%v`` of the property) and in a plan
    violation. A secret prints its value, as the engine does (``{&{{value}}}``).
    """
    if is_unknown(value):
        return "output<string>{}"
    return "{" + _go_v(value) + "}"

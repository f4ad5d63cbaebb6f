"""Pulumi's wire format, written out once for every test that inspects state or talks gRPC.

The secret wrapper is spelled from the wire format (pulumi.runtime.rpc), not imported from the
test engine, so the tests check the engine against the format rather than against itself.
`struct` and `plain` convert between plain values and the protobuf Structs of the provider
protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2

SECRET_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def secret(value: Any) -> dict[str, Any]:
    """`value` wrapped as a secret, as the engine sends it."""
    return {SECRET_KEY: SECRET_SIG, "value": value}


def is_wrapped_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_KEY) == SECRET_SIG


def struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    """`values` as the protobuf Struct a provider request carries."""
    out = struct_pb2.Struct()
    out.update(dict(values))
    return out


def plain(message: struct_pb2.Struct) -> dict[str, Any]:
    """A provider response's Struct as plain values."""
    converted: dict[str, Any] = json_format.MessageToDict(message)
    return converted

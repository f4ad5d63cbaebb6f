"""Pulumi's secret wrapper on the wire, written out once for every test that inspects state.

Spelled from the wire format (pulumi.runtime.rpc), not imported from the test engine, so the
tests check the engine against the format rather than against itself.
"""

from __future__ import annotations

from typing import Any

SECRET_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def secret(value: Any) -> dict[str, Any]:
    """`value` wrapped as a secret, as the engine sends it."""
    return {SECRET_KEY: SECRET_SIG, "value": value}


def is_wrapped_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_KEY) == SECRET_SIG

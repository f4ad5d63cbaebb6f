"""Values still unknown during a preview, as `check` and `diff` receive them. No imports.

`UNKNOWN` equals `pulumi.runtime.rpc.UNKNOWN`, copied so delivery stays free of Pulumi and of
`inputs` (which will import delivery); a test checks that the copies agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["UNKNOWN", "is_unknown"]

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def is_unknown(value: Any) -> bool:
    """True when the value, or anything inside it, is still unknown."""
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(v) for v in value)
    return False

"""Values still unknown during a preview: the wire sentinel and the one predicate on it.

During `pulumi preview` an input computed from another resource's output that does not exist
yet reaches `check` and `diff` as this sentinel string (the SDK decodes it with
`keep_unknowns=True`). Validation passes such values through unjudged and the rotation decision
treats them as a possible change. No Pulumi import: the value is copied from
`pulumi.runtime.rpc.UNKNOWN`, and a test checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["UNKNOWN_SENTINEL", "is_unknown"]

UNKNOWN_SENTINEL: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def is_unknown(value: object) -> bool:
    """True when the value, or anything inside it, is still unknown."""
    if isinstance(value, str):
        return value == UNKNOWN_SENTINEL
    if isinstance(value, Mapping):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(v) for v in value)
    return False

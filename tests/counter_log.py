"""The counter test program (``tests/engine/programs/counter``) as the engine tests and the
two-backend scenarios (``tests/cli``) read it.

Its provider appends one JSON line per call it receives to the file the ``counter:log`` config
names. ``TOKEN`` is the secret ``counter:token`` config the tests give its stacks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TOKEN = "tok-1"


def read_calls(log: Path) -> list[dict[str, Any]]:
    """Every call the provider logged to ``log`` so far, in order."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def read_mutations(log: Path) -> list[tuple[str, str]]:
    """``(call, name)`` of the create/update/delete calls the provider logged to ``log``."""
    return [
        (c["call"], c["name"])
        for c in read_calls(log)
        if c["call"] in ("create", "update", "delete")
    ]

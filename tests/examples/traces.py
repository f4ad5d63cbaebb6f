"""Where a password shows after an engine run: every place a user or a log could read it.

The state file, the run's outputs, each step's outputs, the engine's log, the program's and the
provider's output, the error and the rendered run. Secrets holding exactly the password are set
aside and counted by place, so a test can require "nowhere" or "only as a secret, there".
"""

from __future__ import annotations

import json
from typing import Any

from pulumi_metal_reset.testing.engine import RunResult, Secret
from tests.wire import is_wrapped_secret

from .conftest import ExampleStack

__all__ = ["assert_nowhere", "assert_only_kept_as_secret", "traces"]


def _set_aside(value: Any, password: str, place: str, kept: list[str]) -> Any:
    """`value` with every secret revealed, except those holding exactly `password`: those are
    replaced by a marker, and `place` is noted in `kept` for each."""
    if isinstance(value, Secret) or is_wrapped_secret(value):
        inner = value.reveal() if isinstance(value, Secret) else value["value"]
        if inner == password:
            kept.append(place)
            return "<kept as a secret>"
        return {"secret": _set_aside(inner, password, place, kept)}
    if isinstance(value, dict):
        return {k: _set_aside(v, password, place, kept) for k, v in value.items()}
    if isinstance(value, list):
        return [_set_aside(v, password, place, kept) for v in value]
    return value


def traces(stack: ExampleStack, result: RunResult, password: str) -> tuple[list[str], list[str]]:
    """Where `password` shows in the clear, and where secrets holding it were set aside."""
    kept: list[str] = []
    structured = {
        "state file": json.loads(stack.state.read_text()),
        "outputs": result.outputs,
        "step outputs": [step.outputs for step in result.steps],
    }
    places = {
        name: json.dumps(_set_aside(value, password, name, kept))
        for name, value in structured.items()
    } | {
        "engine logs": "\n".join(str(entry) for entry in result.logs),
        "program output": result.program_output,
        "provider output": result.provider_output,
        "error": result.error or "",
        "rendered run": result.render(),
    }
    return [name for name, text in places.items() if password in text], kept


def assert_nowhere(stack: ExampleStack, result: RunResult, password: str) -> None:
    assert traces(stack, result, password) == ([], [])


def assert_only_kept_as_secret(stack: ExampleStack, result: RunResult, password: str) -> None:
    """Only as a secret: the resource's new_password in state (and in the step's outputs when
    the run succeeded)."""
    found, kept = traces(stack, result, password)
    assert found == []
    assert kept.count("state file") == 1
    assert set(kept) <= {"state file", "step outputs"}

"""An assertion for tests: a value is in a run's state and outputs, and only inside secrets.

Users should not need Pulumi's secret signature to check that a password or token stays secret;
this walks everything a run produced for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._results import RunResult
from ._wire import Secret, is_secret


def _clear_places(value: Any, needle: str, where: str, secret: bool) -> Iterator[tuple[str, bool]]:
    """Every place ``needle`` occurs in ``value``, with whether it sits inside a secret."""
    if is_secret(value):
        yield from _clear_places(value.get("value"), needle, where, True)
    elif isinstance(value, Secret):
        yield from _clear_places(value.reveal(), needle, where, True)
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _clear_places(inner, needle, f"{where}.{key}", secret)
    elif isinstance(value, (list, tuple)):
        for index, inner in enumerate(value):
            yield from _clear_places(inner, needle, f"{where}[{index}]", secret)
    elif isinstance(value, str) and needle in value:
        yield where, secret


def assert_secret_only(result: RunResult, value: str) -> None:
    """Assert that ``value`` is in ``result``'s state or outputs, always inside a secret, and
    nowhere in clear: not in state, stack or step outputs, the rendered text (plain and
    ``--diff``), the error, policy violations, the logs, or what the program and provider
    processes printed.

    The failure message names where the value was found, never the value itself.
    """
    if not value:
        raise ValueError("assert_secret_only needs a non-empty value to look for")
    places: list[tuple[str, bool]] = []
    state = result.state
    if state is not None:
        for res in state.resources:
            places += _clear_places(res.inputs, value, f"state {res.name} inputs", False)
            places += _clear_places(res.outputs, value, f"state {res.name} outputs", False)
        places += _clear_places(state.outputs, value, "state stack outputs", False)
    places += _clear_places(result.outputs, value, "stack outputs", False)
    for step in result.steps:
        places += _clear_places(step.outputs, value, f"step {step.name} outputs", False)
    texts = {
        "render()": result.render(),
        "render(diff=True)": result.render(diff=True),
        "error": result.error or "",
        "policy violations": "\n".join(repr(v) for v in result.policy_violations),
        "logs": "\n".join(entry.message for entry in result.logs),
        "program output": result.program_output,
        "provider output": result.provider_output,
    }
    clear = [where for where, secret in places if not secret]
    clear += [name for name, text in texts.items() if value in text]
    if clear:
        raise AssertionError(f"the value appears outside a secret in: {', '.join(clear)}")
    if not places:
        raise AssertionError(
            "the value appears nowhere in the run's state or outputs; check that the test "
            "looks at the run that produced it"
        )

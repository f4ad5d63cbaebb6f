"""Pytest fixtures for the Metal emulator.

Enable them in a root conftest.py with `pytest_plugins = ["pulumi_metal_reset.testing.fixtures"]`.
Each test gets its own emulator (function scope), so faults, journal and passwords never leak
from one test into the next. pytest comes with the `testing` extra:
`pip install 'pulumi-metal-reset[testing]'`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

try:
    import pytest
except ImportError:
    raise ImportError(
        "pulumi_metal_reset.testing.fixtures needs pytest, which this package installs only "
        "with its testing extra; run pip install 'pulumi-metal-reset[testing]'."
    ) from None

from pulumi_metal_reset.emulator import Emulator

__all__ = ["metal_emulator", "metal_emulator_factory"]


@pytest.fixture
def metal_emulator() -> Iterator[Emulator]:
    """A running emulator accepting `DEV_TOKEN` as user `dev`."""
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def metal_emulator_factory() -> Iterator[Callable[..., Emulator]]:
    """Start emulators with your own tokens or faults: `factory({"tok": "alice"}, faults=...)`.

    Every emulator it started is stopped when the test ends.
    """
    started: list[Emulator] = []

    def start(tokens: Mapping[str, str] | None = None, **options: Any) -> Emulator:
        emulator = Emulator(tokens, **options).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()

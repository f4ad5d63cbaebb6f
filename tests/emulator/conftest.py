"""Emulator test fixtures: a keep-alive client for `metal_emulator`.

`metal_emulator` and `metal_emulator_factory` come from `pulumi_metal_reset.testing.fixtures`,
registered once for the whole suite in tests/conftest.py, as users register them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_metal_reset.emulator import Emulator

from .support import Client


@pytest.fixture
def client(metal_emulator: Emulator) -> Iterator[Client]:
    """A keep-alive connection to `metal_emulator`."""
    with Client(metal_emulator.url) as connection:
        yield connection

"""Emulator test fixtures: the public ones (as users get them) plus a keep-alive client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_metal_reset.emulator import Emulator
from pulumi_metal_reset.testing.fixtures import (  # noqa: F401 - fixtures used by name
    metal_emulator,
    metal_emulator_factory,
)

from .support import Client


@pytest.fixture
def client(metal_emulator: Emulator) -> Iterator[Client]:  # noqa: F811 - the fixture by name
    """A keep-alive connection to `metal_emulator`."""
    with Client(metal_emulator.url) as connection:
        yield connection

"""Shared test setup: the emulator fixtures (enabled as users enable them) and libfaketime.

Tests marked `faketime` move the provider process's clock with Debian's libfaketime. Where it is
missing they are skipped with that reason, except when METAL_RESET_REQUIRE_FAKETIME=1 (set by
.ci/run): then they fail, so CI can never pass with the schedule tests quietly skipped.
"""

from __future__ import annotations

import os

import pytest

from pulumi_metal_reset.testing.faketime import find_libfaketime

pytest_plugins = ["pulumi_metal_reset.testing.fixtures"]


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("faketime") is None or find_libfaketime() is not None:
        return
    if os.environ.get("METAL_RESET_REQUIRE_FAKETIME") == "1":
        pytest.fail(
            "libfaketime is required here (METAL_RESET_REQUIRE_FAKETIME=1) but not installed; "
            "install Debian's faketime package (make faketime does, as root)."
        )
    pytest.skip("Debian's libfaketime is not installed (make test installs it where it can)")

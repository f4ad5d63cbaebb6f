"""How a delivery test asks for a system tool that the shared markers do not cover (openssl)."""

from __future__ import annotations

import os

import pytest

#: Set in CI: a missing tool then fails the tests that need it instead of skipping them.
REQUIRE = ("METAL_RESET_REQUIRE_SYSTEM_TOOLS", "METAL_RESET_REQUIRE_FAKETIME")


def need(missing: list[str], packages: str) -> None:
    """Skip (or, where CI requires the tools, fail) when a system tool is missing."""
    if not missing:
        return
    required = [name for name in REQUIRE if os.environ.get(name) == "1"]
    if required:
        pytest.fail(
            f"{', '.join(missing)} must be installed here ({required[0]}=1); install Debian's "
            f"{packages} (apt-get install -y {packages})."
        )
    pytest.skip(f"{', '.join(missing)} not installed (Debian's {packages})")

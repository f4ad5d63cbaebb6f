"""Shared test setup: the emulator fixtures (enabled as users enable them) and system tools.

Some tests need a Debian package that pip cannot install (`make test` installs them as root):
- `faketime`: Debian's libfaketime moves the provider process's clock;
- `secret_store`: Debian's `pass` and `gnupg` are a real secret store.
Where one is missing its tests are skipped with that reason, except where it is required:
METAL_RESET_REQUIRE_SYSTEM_TOOLS=1 (set by .ci/run) requires all of them, and the older
METAL_RESET_REQUIRE_FAKETIME=1 libfaketime. Then they fail, so CI can never pass with them
quietly skipped.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import pytest

from pulumi_metal_reset.testing.faketime import find_libfaketime

pytest_plugins = ["pulumi_metal_reset.testing.fixtures"]

REQUIRE_ALL = "METAL_RESET_REQUIRE_SYSTEM_TOOLS"


def _missing_libfaketime() -> list[str]:
    return [] if find_libfaketime() is not None else ["libfaketime"]


def _missing_secret_store() -> list[str]:
    return [command for command in ("pass", "gpg", "gpg-agent") if shutil.which(command) is None]


@dataclass(frozen=True)
class SystemTool:
    """A Debian package some tests need, and how to tell whether it is here."""

    marker: str
    packages: str  # what `apt-get install` takes
    purpose: str
    missing: Callable[[], list[str]]  # what is absent, empty when all is here
    flag: str | None = None  # an older per-tool require flag, still honoured


SYSTEM_TOOLS = (
    SystemTool(
        "faketime",
        "faketime",
        "the schedule tests move the provider's clock with it",
        _missing_libfaketime,
        flag="METAL_RESET_REQUIRE_FAKETIME",
    ),
    SystemTool(
        "secret_store",
        "pass gnupg",
        "the delivery tests keep passwords in a real pass store",
        _missing_secret_store,
    ),
)


def is_required(tool: SystemTool, environ: Mapping[str, str]) -> bool:
    return environ.get(REQUIRE_ALL) == "1" or (
        tool.flag is not None and environ.get(tool.flag) == "1"
    )


def system_tool_verdict(
    markers: set[str], environ: Mapping[str, str]
) -> tuple[Literal["fail", "skip"], str] | None:
    """("fail" or "skip", the reason) for a test with these markers; None to run it."""
    for tool in SYSTEM_TOOLS:
        if tool.marker not in markers:
            continue
        missing = tool.missing()
        if not missing:
            continue
        absent = ", ".join(missing)
        if is_required(tool, environ):
            flag = REQUIRE_ALL if environ.get(REQUIRE_ALL) == "1" else tool.flag
            return "fail", (
                f"{absent} is required here ({flag}=1) but not installed, and {tool.purpose}; "
                f"install Debian's {tool.packages} (make test does, as root)."
            )
        return "skip", (
            f"{absent} is not installed, and {tool.purpose} "
            f"(make test installs Debian's {tool.packages} where it can)"
        )
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    markers = {tool.marker for tool in SYSTEM_TOOLS if item.get_closest_marker(tool.marker)}
    verdict = system_tool_verdict(markers, os.environ)
    if verdict is None:
        return
    outcome, reason = verdict
    if outcome == "fail":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)

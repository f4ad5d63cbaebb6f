"""Shared test setup: the emulator fixtures (enabled as users enable them) and system tools.

Some tests need a program that pip cannot install:
- `faketime`: Debian's libfaketime moves the provider process's clock;
- `secret_store`: Debian's `pass` and `gnupg` are a real secret store;
- `jq`: Debian's jq runs the example rotation workflow's guard;
- `openssl`: Debian's openssl runs the documented fingerprint recipe;
- `cli`: the Pulumi CLI runs the real engine.
Where one is missing its tests are skipped with that reason, except where it is required; then
they fail, so CI can never pass with them quietly skipped. METAL_RESET_REQUIRE_SYSTEM_TOOLS=1
(set by .ci/run and the GitHub workflow) requires the Debian packages, which `make test` installs
as root; the older METAL_RESET_REQUIRE_FAKETIME=1 requires libfaketime and
openssl; METAL_RESET_REQUIRE_PULUMI_CLI=1 (set by the GitHub workflow, which installs the CLI)
requires `pulumi`. Mark a test with the tool's marker; a fixture that needs a tool calls
`require_system_tools` instead, for a test that forgets the marker.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import pytest
from hypothesis import HealthCheck, settings

from pulumi_metal_reset.testing.faketime import find_libfaketime

# The emulator fixtures, enabled as users enable them; the `pass` store fixtures, defined once.
pytest_plugins = ["pulumi_metal_reset.testing.fixtures", "tests.delivery.store"]

# No test asserts a time, and Hypothesis's per-example deadline (200 ms) would: on 2 busy cores
# an example that imports a module for the first time (idna, for a non-ASCII host) misses it.
# Every run draws the same examples (as Hypothesis's own `ci` profile does, which it loads only
# where a CI variable is set; `.ci/run` sets none), keeps no example database, and does not
# fail a property test for being slow on a busy machine.
settings.register_profile(
    "deterministic",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("deterministic")

REQUIRE_ALL = "METAL_RESET_REQUIRE_SYSTEM_TOOLS"


def _missing_libfaketime() -> list[str]:
    return [] if find_libfaketime() is not None else ["libfaketime"]


def _missing_secret_store() -> list[str]:
    return [command for command in ("pass", "gpg", "gpg-agent") if shutil.which(command) is None]


def _missing_jq() -> list[str]:
    return [] if shutil.which("jq") is not None else ["jq"]


def _missing_openssl() -> list[str]:
    return [] if shutil.which("openssl") is not None else ["openssl"]


def _missing_pulumi_cli() -> list[str]:
    return [] if shutil.which("pulumi") is not None else ["the Pulumi CLI (`pulumi`)"]


@dataclass(frozen=True)
class SystemTool:
    """A program some tests need, how to tell whether it is here, and which flags require it."""

    marker: str
    purpose: str
    install: str  # what to do about it, ending the failure's sentence
    missing: Callable[[], list[str]]  # what is absent, empty when all is here
    required_by: tuple[str, ...]  # environment flags that turn a skip into a failure


SYSTEM_TOOLS = (
    SystemTool(
        "faketime",
        "the schedule tests move the provider's clock with it",
        "install Debian's faketime (make test does, as root)",
        _missing_libfaketime,
        (REQUIRE_ALL, "METAL_RESET_REQUIRE_FAKETIME"),
    ),
    SystemTool(
        "secret_store",
        "the delivery tests keep passwords in a real pass store",
        "install Debian's pass gnupg (make test does, as root)",
        _missing_secret_store,
        (REQUIRE_ALL,),
    ),
    SystemTool(
        "jq",
        "the example rotation workflow's guard is a jq script",
        "install Debian's jq (make test does, as root)",
        _missing_jq,
        (REQUIRE_ALL,),
    ),
    SystemTool(
        "openssl",
        "the documented fingerprint recipe runs in it",
        "install Debian's openssl (as root: apt-get install openssl)",
        _missing_openssl,
        (REQUIRE_ALL, "METAL_RESET_REQUIRE_FAKETIME"),
    ),
    SystemTool(
        "cli",
        "these tests run the real Pulumi engine",
        "install the Pulumi CLI (the GitHub workflow does, with pulumi/actions)",
        _missing_pulumi_cli,
        ("METAL_RESET_REQUIRE_PULUMI_CLI",),
    ),
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
        flag = next((flag for flag in tool.required_by if environ.get(flag) == "1"), None)
        if flag is not None:
            return "fail", (
                f"{absent} is required here ({flag}=1) but not installed, and {tool.purpose}; "
                f"{tool.install}."
            )
        return "skip", f"{absent} is not installed, and {tool.purpose}; {tool.install}"
    return None


def require_system_tools(markers: set[str]) -> None:
    """Skip the running test with the reason, or fail it where a flag requires the tools."""
    verdict = system_tool_verdict(markers, os.environ)
    if verdict is None:
        return
    outcome, reason = verdict
    if outcome == "fail":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


# tryfirst: a required tool must fail its test before a module's own skipif can skip it.
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    require_system_tools(
        {tool.marker for tool in SYSTEM_TOOLS if item.get_closest_marker(tool.marker)}
    )

"""Dependency floors: each runtime dependency has one `>=` floor that tools/floors.py can pin.

`make test-floors` installs exactly those pins and runs the suite with METAL_RESET_FLOOR_LANE=1;
there the installed versions must equal the floors, so a pip that quietly picked something newer
cannot pass for the floor lane. In the ordinary lane they must satisfy the declared ranges.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.pulumi_versions import TRACEBACK_SINCE
from tools.floors import (
    FloorError,
    floor_of,
    floors,
    install_extras,
    python_floor,
    runtime_requirements,
)
from tools.pythons import load

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = load(ROOT / "pyproject.toml")
FLOOR_LANE = os.environ.get("METAL_RESET_FLOOR_LANE") == "1"
FLOORS = [sys.executable, "-m", "tools.floors"]  # as the Makefile runs it, from the repo root


def _project(dependencies: list[str], extras: dict[str, list[str]] | None = None) -> Any:
    return {
        "project": {
            "name": "pulumi-metal-reset",
            "dependencies": dependencies,
            "optional-dependencies": extras or {},
        }
    }


def test_every_runtime_dependency_has_a_floor_the_script_pins() -> None:
    pins = floors(PYPROJECT)
    declared = {Requirement(req).name for req, _ in runtime_requirements(PYPROJECT)}
    assert {Requirement(pin.pin).name for pin in pins} == declared
    assert {"pulumi", "requests", "urllib3", "pydantic", "email-validator"} <= declared
    for pin in pins:
        (spec,) = Requirement(pin.pin).specifier
        assert spec.operator == "=="
        assert Requirement(pin.requirement).specifier.contains(spec.version)


def test_the_floors_that_once_lied_stay_raised() -> None:
    """Retry(retry_after_max=...) is urllib3 2.6.3's; validate_email(strict=True) is 2.3.0's."""
    pins = {Requirement(pin.pin).name: Version(pin.pin.split("==")[1]) for pin in floors(PYPROJECT)}
    assert pins["urllib3"] >= Version("2.6.3")
    assert pins["email-validator"] >= Version("2.3.0")
    # requests 2.32.0 and 2.32.1 are yanked: pip never picks them unless pinned exactly.
    assert pins["requests"] >= Version("2.32.2")


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        ("pulumi>=3.216,<4", "pulumi==3.216"),
        ("pydantic[email]>=2.7", "pydantic[email]==2.7"),
        ("tomli>=2; python_version < '3.11'", 'tomli==2; python_version < "3.11"'),
        ("urllib3>=2.6.3,!=2.7.0,<=3", "urllib3==2.6.3"),
    ],
)
def test_floor_pins(requirement: str, expected: str) -> None:
    assert floor_of(requirement, "dependencies").pin == expected


@pytest.mark.parametrize(
    ("requirement", "says"),
    [
        ("requests", "no `>=` floor"),
        ("requests<3", "no `>=` floor"),
        ("requests>=2.31,>=2.32", "more than one `>=` floor"),
        ("requests~=2.32", "no `>=` floor"),
        ("requests>=2.32,~=2.32", "uses ~=2.32 beside its floor"),
        ("requests>=2.32,>2.32", "uses >2.32 beside its floor"),
        ("requests>=2.32,!=2.32", "excludes its own floor 2.32"),
        ("requests @ https://example.invalid/requests.whl", "is a direct URL"),
        ("requests>=>2", "not a valid requirement"),
    ],
)
def test_requirements_without_a_pinnable_floor_are_refused(requirement: str, says: str) -> None:
    with pytest.raises(FloorError) as caught:
        floor_of(requirement, "extra testing")
    message = str(caught.value)
    assert says in message
    assert "(extra testing)" in message


def test_runtime_extras_count_and_dev_tools_do_not() -> None:
    project = _project(
        ["pulumi>=3.216,<4"],
        {
            "dev": ["pytest>=8", "unpinned-tool"],
            "testing": ["pulumi-policy>=1.21", "pulumi-metal-reset[dev]"],
        },
    )
    assert [pin.pin for pin in floors(project)] == ["pulumi==3.216", "pulumi-policy==1.21"]
    assert [pin.source for pin in floors(project)] == ["dependencies", "extra testing"]
    assert install_extras(project) == ["dev", "testing"]


def test_a_runtime_extra_without_a_floor_stops_the_script(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "pulumi-metal-reset"\ndependencies = ["pulumi>=3.216"]\n'
        '[project.optional-dependencies]\ntesting = ["pulumi-policy"]\n'
    )
    run = [*FLOORS, "--pyproject", str(pyproject)]
    result = subprocess.run(run, capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "floors: 'pulumi-policy' in pyproject.toml (extra testing) has no `>=` floor; give it "
        "exactly one (for example `>=1.2`) so the floor lane can install it."
    ]


def test_the_script_prints_one_pin_a_line_and_the_extras() -> None:
    pins = subprocess.run(FLOORS, capture_output=True, text=True, check=True, cwd=ROOT)
    lines = pins.stdout.splitlines()
    assert lines[0].startswith("#")
    assert lines[1:] == [pin.pin for pin in floors(PYPROJECT)]
    extras = subprocess.run(
        [*FLOORS, "--extras"], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert extras.stdout.strip().split(",") == install_extras(PYPROJECT)
    assert "dev" in install_extras(PYPROJECT)


@pytest.mark.parametrize(
    "pin",
    [floor.pin for floor in floors(PYPROJECT)],
    ids=lambda pin: Requirement(pin).name,
)
def test_installed_versions(pin: str) -> None:
    """Floor lane: exactly the floor. Ordinary lane: inside the declared range."""
    requirement = Requirement(pin)
    if requirement.marker is not None and not requirement.marker.evaluate():
        return  # not for this Python: pip installs nothing, and there is nothing to compare
    try:
        installed = Version(version(requirement.name))
    except PackageNotFoundError:
        pytest.fail(f"{requirement.name} is a runtime dependency but is not installed")
    (spec,) = requirement.specifier
    if FLOOR_LANE:
        assert installed == Version(spec.version), f"the floor lane installed {installed}"
    else:
        declared = next(
            Requirement(req)
            for req, _ in runtime_requirements(PYPROJECT)
            if Requirement(req).name == requirement.name
        )
        assert declared.specifier.contains(installed, prereleases=True)


def test_the_sdk_floor_sends_tracebacks() -> None:
    """tests/pulumi_versions.py reads a provider error as a traceback, which the dynamic-provider
    server sends from 3.260: the declared floor must not drop below that, and the installed
    server's source must define the wrapper that sends it (every lane checks it: the floor, and
    the newest release)."""
    (pulumi,) = (pin for pin in floors(PYPROJECT) if Requirement(pin.pin).name == "pulumi")
    (floor,) = Requirement(pulumi.pin).specifier
    assert Version(floor.version) >= TRACEBACK_SINCE, f"pulumi's floor {floor.version} is too low"
    # Read, not imported: importing the server's __main__ starts serving.
    spec = importlib.util.find_spec("pulumi.dynamic.__main__")
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text())
    defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert "_abort_with_traceback" in defined


@pytest.mark.parametrize(
    ("requires", "minor"), [(">=3.10", "3.10"), (">=3.11.2,<4", "3.11"), (">=3", "3.0")]
)
def test_the_python_floor_is_the_lowest_minor_requires_python_admits(
    requires: str, minor: str
) -> None:
    assert python_floor({"project": {"requires-python": requires}}) == minor


@pytest.mark.parametrize("requires", ["", ">3.9", "~=3.10"])
def test_a_requires_python_without_one_floor_is_refused(requires: str) -> None:
    with pytest.raises(FloorError, match="has no single `>=` floor"):
        python_floor({"project": {"requires-python": requires}})


@pytest.mark.skipif(not FLOOR_LANE, reason="a check of the floor lane (make test-floors)")
def test_the_floor_lane_runs_on_the_python_floor() -> None:
    """The oldest Python requires-python admits, whatever FLOORS_PYTHON or PATH offered."""
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == python_floor(PYPROJECT)

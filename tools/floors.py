"""Pin every runtime dependency of pyproject.toml at exactly its declared floor.

A `>=` floor is a promise that the package works with that release. `make test-floors` installs
these pins into a separate venv and runs the tests, so the promise is checked on every CI run.
The pins are derived here, never written by hand, so they cannot drift from pyproject.toml.

Runtime dependencies are `[project].dependencies` and every optional extra except the development
tools (`dev`): a user who installs `pulumi-metal-reset[testing]` relies on those floors too.

    python -m tools.floors            # requirement lines, one pin per runtime dependency
    python -m tools.floors --extras   # the extras to install with the package: dev,testing,...
    python -m tools.floors --python   # an interpreter of the oldest Python requires-python allows

Python is a floor too: the floor lane runs on the oldest minor version `requires-python` admits,
found by tools/pythons.py as `python3.X` on PATH (what actions/setup-python provides) or else
under pyenv.

A requirement this script cannot turn into one exact pin (no `>=`, a `~=`/`==`/`>` clause, or a
floor its own upper bound excludes) stops it with one sentence naming the requirement.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from tools.pythons import interpreter_of, load

ROOT = Path(__file__).resolve().parent.parent
# Extras that hold development tools, not something a user installs the package with.
DEV_EXTRAS = frozenset({"dev"})
# Clauses that may stand beside the floor: upper bounds and exclusions.
ALLOWED_BESIDE_FLOOR = frozenset({"<", "<=", "!="})


class FloorError(ValueError):
    """A runtime requirement that has no single `>=` floor to pin."""


@dataclass(frozen=True)
class Floor:
    """One runtime requirement and the exact pin that tests its floor."""

    requirement: str
    source: str  # "dependencies" or "extra <name>"
    pin: str


def floor_of(requirement: str, source: str) -> Floor:
    """The exact pin for one requirement string, or FloorError saying why there is none."""
    where = f"{requirement!r} in pyproject.toml ({source})"
    try:
        req = Requirement(requirement)
    except InvalidRequirement as exc:
        raise FloorError(f"{where} is not a valid requirement ({exc}); fix its syntax.") from None
    if req.url is not None:
        raise FloorError(f"{where} is a direct URL; give it a `>=` floor from the index instead.")
    floors = [spec for spec in req.specifier if spec.operator == ">="]
    others = [spec for spec in req.specifier if spec.operator != ">="]
    if len(floors) != 1:
        raise FloorError(
            f"{where} has {'no' if not floors else 'more than one'} `>=` floor; "
            "give it exactly one (for example `>=1.2`) so the floor lane can install it."
        )
    odd = [str(spec) for spec in others if spec.operator not in ALLOWED_BESIDE_FLOOR]
    if odd:
        raise FloorError(
            f"{where} uses {', '.join(odd)} beside its floor; only `<`, `<=` and `!=` may stand "
            "beside a `>=` floor, so write the range as `>=floor,<bound`."
        )
    version = floors[0].version
    if not req.specifier.contains(version, prereleases=True):
        raise FloorError(
            f"{where} excludes its own floor {version}; raise the floor to the first release "
            "the range allows."
        )
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    marker = f"; {req.marker}" if req.marker is not None else ""
    return Floor(requirement, source, f"{req.name}{extras}=={version}{marker}")


def runtime_requirements(pyproject: dict[str, Any]) -> list[tuple[str, str]]:
    """(requirement, source) for every runtime dependency, self-references left out."""
    project = pyproject["project"]
    own_name = canonicalize_name(project["name"])
    found = [(req, "dependencies") for req in project.get("dependencies", [])]
    for extra, reqs in sorted(project.get("optional-dependencies", {}).items()):
        if extra not in DEV_EXTRAS:
            found.extend((req, f"extra {extra}") for req in reqs)
    return [
        (req, source)
        for req, source in found
        if canonicalize_name(Requirement(req).name) != own_name
    ]


def floors(pyproject: dict[str, Any]) -> list[Floor]:
    """One Floor per runtime requirement; FloorError on the first that has none."""
    return [floor_of(req, source) for req, source in runtime_requirements(pyproject)]


def install_extras(pyproject: dict[str, Any]) -> list[str]:
    """Every extra, so the floor venv holds the runtime extras and the dev tools."""
    return sorted(pyproject["project"].get("optional-dependencies", {}))


def python_floor(pyproject: dict[str, Any]) -> str:
    """The oldest minor version `requires-python` admits, as "3.10"."""
    declared = pyproject["project"].get("requires-python", "")
    lower = [spec for spec in SpecifierSet(declared) if spec.operator == ">="]
    if len(lower) != 1:
        raise FloorError(
            f"requires-python {declared!r} in pyproject.toml has no single `>=` floor; give it "
            "one (for example `>=3.10`) so the floor lane knows which Python to run on."
        )
    release = Version(lower[0].version).release
    return f"{release[0]}.{release[1] if len(release) > 1 else 0}"


def floor_interpreter(pyproject: dict[str, Any]) -> str:
    """An interpreter of the Python floor that runs: `python3.X` on PATH, else pyenv's newest."""
    minor = python_floor(pyproject)
    found = interpreter_of(minor)
    if found is None:
        raise FloorError(
            f"No Python {minor} interpreter was found (neither python{minor} on PATH nor one "
            f"under pyenv), and requires-python makes {minor} the floor lane's Python; install "
            f"Python {minor}, or set FLOORS_PYTHON to the path of one."
        )
    return found


def render(pins: Iterable[Floor]) -> str:
    lines = [
        "# Generated by tools/floors.py from pyproject.toml: runtime dependencies at their floors."
    ]
    lines += [pin.pin for pin in pins]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument(
        "--extras", action="store_true", help="print the extras to install, comma-separated"
    )
    parser.add_argument(
        "--python", action="store_true", help="print the path of a Python at the floor"
    )
    args = parser.parse_args(argv)
    pyproject = load(args.pyproject)
    if args.extras:
        print(",".join(install_extras(pyproject)))
        return 0
    try:
        if args.python:
            print(floor_interpreter(pyproject))
            return 0
        pins = floors(pyproject)
    except FloorError as exc:
        print(f"floors: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render(pins))
    return 0


if __name__ == "__main__":
    sys.exit(main())

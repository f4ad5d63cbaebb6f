"""CPython interpreters for the test lanes, found on this machine.

`make test-floors` runs on the oldest minor version requires-python admits (tools/floors.py
picks it); `make test-newest-python` on the newest CPython release installed here that
requires-python admits. Candidates are `python3.X` on PATH (what actions/setup-python provides)
and pyenv's installs of plain releases: no free-threaded 3.13.0t, no 3.14.0rc1. Each candidate is
run once and counts only if it runs and reports the version its name promises: a pyenv shim for
a version that is not selected is on PATH but fails when run, and one that hangs is passed over.
Hand-written: the two lanes need only this, and no maintained tool finds interpreters without
being installed first in the interpreter that looks.

    python -m tools.pythons --newest   # the newest CPython release here that the project admits
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (tomli comes with pytest and mypy there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
_ON_PATH = re.compile(r"python(3\.\d+)")


def reported_version(candidate: Path) -> Version | None:
    """The version `candidate` reports when run; None if it fails, hangs or is not a release."""
    try:
        ran = subprocess.run(
            [str(candidate), "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        version = Version(ran.stdout.strip()) if ran.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, InvalidVersion):
        return None
    return None if version is None or version.is_prerelease else version


def _pyenv(minor: str) -> list[tuple[Version, Path]]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found: list[tuple[Version, Path]] = []
    for folder in root.glob(f"versions/{minor}.*"):
        try:
            version = Version(folder.name)
        except InvalidVersion:
            continue  # 3.10.13t, 3.10.13-debug and the like: not a plain release
        if not version.is_prerelease:
            found.append((version, folder / "bin" / f"python{version.major}.{version.minor}"))
    return sorted(found, reverse=True)


def pyenv_releases(minor: str) -> list[Path]:
    """pyenv's installs of plain releases of `minor` ("3.10"), newest first."""
    return [path for _, path in _pyenv(minor)]


def interpreter_of(minor: str, admits: SpecifierSet | None = None) -> str | None:
    """A working interpreter of `minor` ("3.10"): `python3.X` on PATH first, else pyenv's newest.

    With `admits`, its full version must satisfy it too (">=3.11.2" refuses 3.11.1).
    """
    on_path = shutil.which(f"python{minor}")
    for candidate in [*([Path(on_path)] if on_path else []), *pyenv_releases(minor)]:
        version = reported_version(candidate)
        if version is None or f"{version.major}.{version.minor}" != minor:
            continue
        if admits is None or admits.contains(version):
            return str(candidate)
    return None


def _minors_here() -> set[str]:
    """Every 3.X that PATH or pyenv names, whether or not it runs."""
    minors = {f"{version.major}.{version.minor}" for version, _ in _pyenv("3")}
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        minors.update(m.group(1) for m in map(_ON_PATH.fullmatch, names) if m)
    return minors


def newest_interpreter(admits: SpecifierSet) -> str | None:
    """The newest minor version here with a working release that `admits` allows."""
    for minor in sorted(_minors_here(), key=lambda m: Version(m), reverse=True):
        found = interpreter_of(minor, admits)
        if found is not None:
            return found
    return None


def requires_python(pyproject: Path) -> SpecifierSet:
    with pyproject.open("rb") as handle:
        return SpecifierSet(tomllib.load(handle)["project"].get("requires-python", ""))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument(
        "--newest", action="store_true", required=True, help="print the newest Python's path"
    )
    args = parser.parse_args(argv)
    admits = requires_python(args.pyproject)
    found = newest_interpreter(admits)
    if found is None:
        print(
            f"pythons: No CPython release that requires-python ({admits}) admits was found, "
            "neither python3.X on PATH nor one under pyenv; install one, or set NEWEST_PYTHON "
            "to the path of one.",
            file=sys.stderr,
        )
        return 2
    print(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())

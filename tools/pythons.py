"""CPython interpreters for the test lanes, found on this machine.

`make test-floors` runs on the oldest minor version requires-python admits (tools/floors.py
picks it); `make test-newest-python` on the newest CPython release installed here that
requires-python admits. Candidates are every `python3.X` on PATH (what actions/setup-python
provides) and pyenv's installs of plain releases (its 3.13.0t and 3.14.0rc1 folders are passed
over). Each candidate is run once, isolated, and counts only if it reports, in time, a final
release of CPython with the GIL of the minor version its name promises: a pyenv shim for a
version that is not selected is on PATH but fails when run, and one that hangs is passed over.
Hand-written: the two lanes need only this, and no maintained tool finds interpreters without
being installed first in the interpreter that looks.

    python -m tools.pythons --newest   # the newest CPython release here that the project admits
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (tomli comes with pytest and mypy there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PROBE_TIMEOUT_S = 60.0
_ON_PATH = re.compile(r"python(3\.\d+)")
# What a candidate prints: "cpython 3 13 0 final 0"; the last field is 1 for a free-threaded build.
_PROBE = (
    "import sys, sysconfig; "
    "print(sys.implementation.name, *sys.version_info[:4], "
    "int(sysconfig.get_config_var('Py_GIL_DISABLED') or 0))"
)


def load(path: Path) -> dict[str, Any]:
    """pyproject.toml, parsed."""
    with path.open("rb") as handle:
        loaded: dict[str, Any] = tomllib.load(handle)
    return loaded


def reported_version(candidate: Path) -> Version | None:
    """The version `candidate` reports when run (isolated, `-I`); None unless it runs, in time,
    as a final release of CPython with the GIL, the build users run."""
    try:
        ran = subprocess.run(
            [str(candidate), "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    fields = ran.stdout.split()
    if ran.returncode != 0 or len(fields) != 6:
        return None
    implementation, major, minor, micro, level, free_threaded = fields
    if implementation != "cpython" or level != "final" or free_threaded != "0":
        return None
    return Version(f"{major}.{minor}.{micro}")


def _path_folders() -> list[str]:
    """PATH's folders, as `shutil.which` reads them (os.defpath when PATH is unset)."""
    return [folder for folder in os.environ.get("PATH", os.defpath).split(os.pathsep) if folder]


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
    """A working interpreter of `minor` ("3.10"): a `python3.X` on PATH (in PATH's order) first,
    else pyenv's newest.

    With `admits`, its full version must satisfy it too (">=3.11.2" refuses 3.11.1).
    """
    on_path = [Path(folder, f"python{minor}") for folder in _path_folders()]
    on_path = [path for path in on_path if os.access(path, os.X_OK) and path.is_file()]
    for candidate in [*on_path, *pyenv_releases(minor)]:
        version = reported_version(candidate)
        if version is None or f"{version.major}.{version.minor}" != minor:
            continue
        if admits is None or admits.contains(version):
            return str(candidate)
    return None


def _minors_here() -> set[str]:
    """Every 3.X that PATH or pyenv names, whether or not it runs."""
    minors = {f"{version.major}.{version.minor}" for version, _ in _pyenv("3")}
    for folder in _path_folders():
        try:
            names = os.listdir(folder)
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


def requires_python(pyproject: dict[str, Any]) -> SpecifierSet:
    return SpecifierSet(pyproject["project"].get("requires-python", ""))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--newest", action="store_true", help="print the newest Python's path")
    args = parser.parse_args(argv)
    if not args.newest:
        parser.print_usage(sys.stderr)
        return 2
    admits = requires_python(load(args.pyproject))
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

"""The lanes' interpreters (tools/pythons.py): the floor lane's oldest, the newest lane's newest.

Fake interpreters stand in for real ones: shell scripts that print a version, or fail the way a
pyenv shim for an unselected version fails.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from tools import pythons
from tools.floors import floor_interpreter
from tools.pythons import load, newest_interpreter, reported_version, requires_python

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = load(ROOT / "pyproject.toml")
NEWEST_LANE = os.environ.get("METAL_RESET_NEWEST_PYTHON_LANE") == "1"


def _fake_python(path: Path, prints: str, code: int = 0, *, sleeps: float = 0) -> Path:
    """A script that prints what tools/pythons.py's probe would read from a real interpreter.

    `prints` is a release ("3.13.5", "3.14.0rc1", "3.13.5t" for a free-threaded build) or any
    other text, printed as it is.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if sleeps:  # one process that answers late, so a timeout leaves nothing running
        answer = _probe_answer(prints)
        script = f"#!{sys.executable}\nimport time\ntime.sleep({sleeps})\nprint({answer!r})\n"
    else:
        script = f"#!/bin/sh\necho {_probe_answer(prints)}\nexit {code}\n"
    path.write_text(script)
    path.chmod(0o755)
    return path


def _probe_answer(release: str) -> str:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(rc\d+)?(t?)", release)
    if match is None:
        return release
    major, minor, micro, candidate, free = match.groups()
    level = "candidate" if candidate else "final"
    return f"cpython {major} {minor} {micro} {level} {1 if free else 0}"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A machine with nothing on PATH and an empty pyenv, until a test adds interpreters."""
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    return tmp_path


def _pyenv(here: Path, version: str, prints: str | None = None) -> Path:
    minor = ".".join(version.split(".")[:2])
    return _fake_python(
        here / "pyenv" / "versions" / version / "bin" / f"python{minor}", prints or version
    )


def test_the_floor_python_skips_a_shim_that_fails_and_takes_pyenvs_newest(here: Path) -> None:
    """A pyenv shim for an unselected version is on PATH but exits non-zero when run."""
    _fake_python(here / "bin" / "python3.10", "pyenv: python3.10: command not found", 127)
    _pyenv(here, "3.10.9")
    newest = _pyenv(here, "3.10.13")
    _pyenv(here, "3.10.13t")  # not a version: passed over
    assert floor_interpreter(PYPROJECT) == str(newest)


def test_a_working_floor_python_on_path_comes_first(here: Path) -> None:
    on_path = _fake_python(here / "bin" / "python3.10", "3.10.12")
    _pyenv(here, "3.10.13")
    assert floor_interpreter(PYPROJECT) == str(on_path)


def test_no_floor_python_stops_the_script_with_what_to_do(tmp_path: Path) -> None:
    """One that reports another version does not count either."""
    _fake_python(tmp_path / "bin" / "python3.10", "3.11.7")
    env = {**os.environ, "PATH": str(tmp_path / "bin"), "PYENV_ROOT": str(tmp_path / "none")}
    result = subprocess.run(
        [sys.executable, "-m", "tools.floors", "--python"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "floors: No Python 3.10 interpreter was found (neither python3.10 on PATH nor one under "
        "pyenv), and requires-python makes 3.10 the floor lane's Python; install Python 3.10, "
        "or set FLOORS_PYTHON to the path of one."
    ]


def test_the_newest_python_is_the_highest_release_that_runs(here: Path) -> None:
    _fake_python(here / "bin" / "python3.12", "3.12.3")
    _fake_python(here / "bin" / "python3.15", "pyenv: python3.15: command not found", 127)
    _pyenv(here, "3.11.7")
    _pyenv(here, "3.13.0")
    newest = _pyenv(here, "3.13.5")
    _pyenv(here, "3.13.5t")  # free-threaded: not a plain release
    _pyenv(here, "3.14.0rc1")  # a pre-release is not what users run
    assert newest_interpreter(SpecifierSet(">=3.10")) == str(newest)


def test_the_newest_python_is_one_requires_python_admits(here: Path) -> None:
    admitted = _fake_python(here / "bin" / "python3.12", "3.12.3")
    _pyenv(here, "3.13.0")
    _pyenv(here, "3.9.18")
    assert newest_interpreter(SpecifierSet(">=3.10,<3.13")) == str(admitted)
    assert newest_interpreter(SpecifierSet(">=3.12.4,<3.13")) is None


def test_only_a_final_cpython_release_with_the_gil_counts(here: Path) -> None:
    assert str(reported_version(_fake_python(here / "a", "3.13.5"))) == "3.13.5"
    assert reported_version(_fake_python(here / "b", "3.14.0rc1")) is None
    assert reported_version(_fake_python(here / "c", "3.13.5t")) is None  # free-threaded
    assert reported_version(_fake_python(here / "d", "pypy 3 10 14 final 0")) is None
    assert reported_version(_fake_python(here / "e", "")) is None
    assert reported_version(_fake_python(here / "f", "3.13.5", 1)) is None
    assert reported_version(here / "missing") is None


def test_a_python_that_hangs_is_passed_over(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pythons, "PROBE_TIMEOUT_S", 1.0)
    assert reported_version(_fake_python(here / "slow", "3.13.5", sleeps=30)) is None
    assert str(reported_version(_fake_python(here / "late", "3.13.5", sleeps=0.1))) == "3.13.5"


def test_a_failing_shim_early_on_path_does_not_hide_a_working_python_later(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_python(here / "shims" / "python3.12", "pyenv: python3.12: command not found", 127)
    works = _fake_python(here / "bin" / "python3.12", "3.12.3")
    monkeypatch.setenv("PATH", os.pathsep.join([str(here / "shims"), str(here / "bin")]))
    assert newest_interpreter(SpecifierSet(">=3.10")) == str(works)


def test_no_newest_python_stops_the_script_with_what_to_do(here: Path) -> None:
    _fake_python(here / "bin" / "python3.13", "pyenv: python3.13: command not found", 127)
    result = subprocess.run(
        [sys.executable, "-m", "tools.pythons", "--newest"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "pythons: No CPython release that requires-python (>=3.10) admits was found, neither "
        "python3.X on PATH nor one under pyenv; install one, or set NEWEST_PYTHON to the path "
        "of one."
    ]


@pytest.mark.skipif(not NEWEST_LANE, reason="a check of the newest-Python lane")
def test_the_newest_python_lane_runs_on_the_newest_python() -> None:
    """The newest release here that requires-python admits, whatever NEWEST_PYTHON offered."""
    found = newest_interpreter(requires_python(PYPROJECT))
    assert found is not None
    newest = reported_version(Path(found))
    assert newest is not None
    assert (newest.major, newest.minor) == sys.version_info[:2], platform.python_version()

"""One stack of the counter program per scenario, run by the test engine and by the real CLI.

The ``cli`` backend is skipped, with the reason, where ``pulumi`` is not on PATH (as on the
machines this project is built on); CI installs the CLI, so there both run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .backends import Backend, CliBackend, EngineBackend, copy_program

PROGRAMS = Path(__file__).resolve().parents[1] / "engine" / "programs"
NO_CLI = "the Pulumi CLI (`pulumi`) is not on PATH; this backend runs only where it is"


@pytest.fixture(
    params=[
        "engine",
        pytest.param(
            "cli",
            marks=[
                pytest.mark.cli,
                pytest.mark.skipif(shutil.which("pulumi") is None, reason=NO_CLI),
            ],
        ),
    ]
)
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A private copy of the counter program with one stack, on the parametrized backend."""
    project = copy_program(PROGRAMS / "counter", tmp_path / "counter")
    backend = EngineBackend if request.param == "engine" else CliBackend
    return backend(project, tmp_path / "calls.jsonl", tmp_path)

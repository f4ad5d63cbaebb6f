"""The README's copy-paste example for testing your own stack, run exactly as written.

Real: the example's conftest and test file, taken from README.md's "Testing your own stacks
offline" section, run by pytest in a fresh folder against a copy of examples/quickstart, the
emulator fixture, the test engine and the real provider server.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.engine


def _example_files() -> dict[str, str]:
    """``# <file name>`` first lines of the section's Python blocks -> their code."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Testing your own stacks offline", 1)[1].split("\n## ", 1)[0]
    files = {}
    for block in re.findall(r"```python\n(.*?)```", section, flags=re.S):
        name = block.splitlines()[0].removeprefix("# ").strip()
        files[name] = block
    return files


def test_the_readme_example_passes_as_written(tmp_path: Path) -> None:
    files = _example_files()
    assert set(files) == {"conftest.py", "test_stack.py"}
    for name, code in files.items():
        (tmp_path / name).write_text(code)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    # `make typecheck` leaves a .mypy_cache in each example; a user's stack folder has none.
    shutil.copytree(
        ROOT / "examples" / "quickstart",
        tmp_path / "stack",
        ignore=shutil.ignore_patterns(".mypy_cache", "__pycache__"),
    )

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert {p.name for p in (tmp_path / "stack").iterdir()} <= {
        "Pulumi.yaml",
        "__main__.py",
        "README.md",
        "__pycache__",
    }

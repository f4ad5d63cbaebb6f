"""Python code run in a fresh interpreter, for the tests that ask what a statement imports.

Only a process that has imported nothing else can tell: pytest's own has loaded most of the
package already.
"""

from __future__ import annotations

import subprocess
import sys


def fresh_python(code: str, *, timeout: float = 120) -> str:
    """What `code` prints, run by `python -c` in a new process; its stderr if it fails."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"the fresh interpreter exited {done.returncode}:\n{done.stderr}"
    return done.stdout

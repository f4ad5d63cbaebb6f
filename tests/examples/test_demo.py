"""`make demo`'s script, run as a user runs it: emulator, preview, up, trigger change, rotate.

Without the Pulumi CLI it goes through the test engine (see conftest for what is real); where
`pulumi` is on PATH the same script drives the real CLI instead.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_and_masks_the_password() -> None:
    done = subprocess.run(
        # any free port: the demo's own 18787 may be taken on a shared machine
        [sys.executable, str(ROOT / "examples" / "demo.py"), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert out.count("matches the emulator's current one: True") == 2
    # The CLI aligns output names (``%-<width>s: ``), so the padding depends on the longest.
    assert re.search(r"\bpassword *: \[secret\]", out)
    assert "[diff: ~rotation_triggers]" in out
    assert out.rstrip().endswith("Emulator stopped.")
    assert "DELETE /metal/v1/reset-password -> 201" in out


@pytest.mark.secret_store
def test_the_delivery_demo_ends_with_the_password_in_pass_only() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py"), "--deliver", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert out.count("`pass show metal/ops` is the emulator's current password: True") == 2
    assert out.count("The password appears in the stack's state (secrets decrypted): False") == 2
    # The CLI aligns output names, so the gap after `delivery` depends on the longest name.
    assert re.search(r'delivery\s*: "command: pass insert --multiline --force metal/ops"', out)
    assert out.rstrip().endswith("Emulator stopped.")

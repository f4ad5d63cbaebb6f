"""`pulumi up` twice under the real Pulumi CLI, against the emulator.

Real: everything — the Go engine, the language host, the plugin shim that starts the provider
server, a local file backend and the passphrase secrets provider. Stood in for: nothing but the
Metal API (the emulator). Skipped, with that reason, where `pulumi` is not on PATH, as on the
machines this project is built on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pulumi_metal_reset.emulator import DEV_TOKEN, DEV_USER, Emulator

pytestmark = [
    pytest.mark.cli,
    pytest.mark.skipif(
        shutil.which("pulumi") is None,
        reason="the Pulumi CLI (`pulumi`) is not on PATH; this test runs only where it is",
    ),
]

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"


def _pulumi(cwd: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        ["pulumi", *args, "--non-interactive"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"pulumi {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_up_then_rotating_up(tmp_path: Path, metal_emulator: Emulator) -> None:
    project = tmp_path / "project"
    shutil.copytree(QUICKSTART, project)
    env = dict(os.environ)
    env.update(
        PULUMI_BACKEND_URL=f"file://{tmp_path / 'state'}",
        PULUMI_CONFIG_PASSPHRASE="test-passphrase",
        PULUMI_SKIP_UPDATE_CHECK="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    (tmp_path / "state").mkdir()
    _pulumi(project, env, "stack", "init", "dev")
    _pulumi(project, env, "config", "set", "equinix:endpoint", metal_emulator.url)
    _pulumi(project, env, "config", "set", "--secret", "equinix:authToken", DEV_TOKEN)

    _pulumi(project, env, "up", "--yes")
    assert [e.method for e in metal_emulator.journal] == ["POST", "DELETE"]
    shown = json.loads(_pulumi(project, env, "stack", "output", "--json"))
    assert shown["password"] == "[secret]"
    revealed = json.loads(_pulumi(project, env, "stack", "output", "--json", "--show-secrets"))
    assert revealed["password"] == metal_emulator.password_of(DEV_USER)

    metal_emulator.reset_journal()
    _pulumi(project, env, "config", "set", "rotationTicket", "SEC-2")
    preview = _pulumi(project, env, "preview", "--diff")
    assert "rotation_triggers" in preview
    assert metal_emulator.journal == []
    _pulumi(project, env, "up", "--yes")
    assert [e.method for e in metal_emulator.journal] == ["DELETE"]
    revealed = json.loads(_pulumi(project, env, "stack", "output", "--json", "--show-secrets"))
    assert revealed["password"] == metal_emulator.password_of(DEV_USER)
    assert revealed["rotationCount"] == 2

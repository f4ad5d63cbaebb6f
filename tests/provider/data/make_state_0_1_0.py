"""Rebuild `state-0.1.0.json`: a stack's state exactly as release 0.1.0 wrote it.

Run against a checkout of 0.1.0 (commit 29edf09), never against the current tree, since the point
is a state the *old* provider wrote:

    git archive 29edf09 | tar -x -C /tmp/v010
    cd /tmp && PYTHONPATH=/tmp/v010 /path/to/.venv/bin/python \
        /path/to/tests/provider/data/make_state_0_1_0.py /path/to/tests/provider/data

Two `up`s of `tests/examples/programs/compat` through the test engine against the emulator (the
second one rotates `scheduled` on a changed trigger). The emulator's password, token and port are
then replaced by fixed placeholders, so the committed file holds no secret and does not depend on
the port; everything else is byte for byte what 0.1.0's provider returned.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

PROGRAM = Path(__file__).resolve().parents[2] / "examples" / "programs" / "compat"

PASSWORD = "fixture-password-not-a-secret"
TOKEN = "fixture-token-not-a-secret"
URL = "http://127.0.0.1:18787/metal/v1"


def main(out_dir: Path) -> None:
    from pulumi_metal_reset.emulator import DEV_TOKEN, DEV_USER, Emulator
    from pulumi_metal_reset.testing.engine import TestEngine

    with tempfile.TemporaryDirectory() as tmp, Emulator() as emulator:
        program = Path(tmp) / "compat"
        shutil.copytree(PROGRAM, program)
        state = Path(tmp) / "state.json"
        config = {"equinix:endpoint": emulator.url, "compat:apiUrl": emulator.url}
        for ticket in ("SEC-1", "SEC-2"):
            result = TestEngine(
                program,
                stack="compat",
                config=config | {"compat:ticket": ticket},
                secret_config={"equinix:authToken": DEV_TOKEN, "compat:apiToken": DEV_TOKEN},
                state_path=state,
            ).up()
            assert result.ok, result.render()
        password = emulator.password_of(DEV_USER)
        assert password is not None
        text = state.read_text()
        for real, placeholder in ((password, PASSWORD), (DEV_TOKEN, TOKEN), (emulator.url, URL)):
            text = text.replace(real, placeholder)
    data = json.loads(text)
    (out_dir / "state-0.1.0.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

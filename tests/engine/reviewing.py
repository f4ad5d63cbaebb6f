"""The texts of docs/reviewing.md, produced by the test engine; `--write` puts them in the doc.

    python -m tests.engine.reviewing --write     # after a change that alters a preview

One stack (tests/engine/programs/review, project `infra`, stack `dev`): a token `admin` created
with `rotate_every="30d"` and the trigger `ticket: SEC-1`, against the emulator, the provider's
clock fixed by libfaketime. Each case is one preview of a change to it (or the audit of its
export), rendered as the CLI prints that command. Normalised, so the texts are the same on every
run: the resource ID (a random UUID) reads `<id>`, the policy pack's path reads `policy` (as
typed after `--policy-pack`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from pulumi_metal_reset.emulator import DEV_TOKEN, Emulator
from pulumi_metal_reset.testing import RunResult, TestEngine
from pulumi_metal_reset.testing.faketime import faketime_env

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "reviewing.md"
PROGRAM = Path(__file__).resolve().parent / "programs" / "review"
PACK = REPO / "policy"

#: The provider's clock: the create, a day later, and a day after the first rotation fell due.
CREATED = "2030-01-01 12:00:00"
NEXT_DAY = "2030-01-02 09:00:00"
DUE = "2030-02-01 09:00:00"
#: When the audit runs: five days after the rotation fell due (2030-01-31T00:00Z).
AUDITED = "2030-02-05 00:00:00"

#: Case name -> the command the text stands for, in the doc's order.
CASES = {
    "create": "pulumi preview --diff",
    "trigger-rotation": "pulumi preview",
    "due-rotation": "pulumi preview --diff",
    "email-change": "pulumi preview",
    "period-change": "pulumi preview --diff",
    "policy-violation": "pulumi preview --policy-pack policy",
    "audit-finding": "pulumi stack export > dev.json && metal-reset audit dev.json",
}
_MARKER = re.compile(r"<!-- generated: ([\w-]+) -->\n```text\n(.*?)```\n", re.S)


def _normalise(text: str) -> str:
    text = re.sub(r"\[id=[0-9a-f-]{36}\]", "[id=<id>]", text)
    return text.replace(f"(local: {PACK})", "(local: policy)")


def generate() -> dict[str, str]:
    """Every case's text (runs the engine about eight times and the audit once)."""
    ambient = ("METAL_AUTH_TOKEN", "EQUINIX_API_ENDPOINT", "EQUINIX_API_TIMEOUT")
    saved = {k: os.environ.pop(k) for k in ambient if k in os.environ}
    try:
        with tempfile.TemporaryDirectory() as tmp, Emulator() as emulator:
            return _generate(Path(tmp), emulator)
    finally:
        os.environ.update(saved)


def _generate(tmp: Path, emulator: Emulator) -> dict[str, str]:
    program = tmp / "review"
    shutil.copytree(PROGRAM, program, ignore=shutil.ignore_patterns("__pycache__"))

    def engine(at: str, **config: str) -> TestEngine:
        return TestEngine(
            program,
            config={"equinix:endpoint": emulator.url, "rotateEvery": "30d", **config},
            secret_config={"equinix:authToken": DEV_TOKEN},
            state_path=tmp / "dev.state.json",
            provider_env=faketime_env(f"@{at}"),
            clock=lambda: _epoch(at),  # the engine's `created`, as of the same time
        )

    def preview(at: str, diff: bool = False, **config: str) -> str:
        result: RunResult = engine(at, **config).preview()
        return result.render(diff=diff)

    out = {"create": preview(CREATED, diff=True)}
    created = engine(CREATED).up()
    if not created.ok:
        raise RuntimeError(f"the create failed: {created.error}")
    out["trigger-rotation"] = preview(NEXT_DAY, ticket="SEC-2")
    out["due-rotation"] = preview(DUE, diff=True)
    out["email-change"] = preview(NEXT_DAY, email="it-ops@example.com")
    out["period-change"] = preview(NEXT_DAY, diff=True, rotateEvery="7d")
    blocked = engine(NEXT_DAY, rotateEvery="365d").preview(policy_packs=[PACK])
    out["policy-violation"] = blocked.render()
    export = tmp / "dev.json"
    engine(CREATED).export(export)
    out["audit-finding"] = _audit(export, tmp)
    return {name: _normalise(out[name]) for name in CASES}


def _epoch(at: str) -> float:
    """libfaketime's absolute `@YYYY-MM-DD hh:mm:ss`, read as UTC (the faked zone here)."""
    return datetime.strptime(at, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp()


def _audit(export: Path, cwd: Path) -> str:
    """`metal-reset audit dev.json` with its clock at AUDITED; its output and exit status."""
    script = Path(sys.executable).parent / "metal-reset"
    proc = subprocess.run(
        [str(script), "audit", export.name],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **faketime_env(f"@{AUDITED}")},
        timeout=60,
        check=False,
    )
    return f"{proc.stdout}{proc.stderr}\n(exit status {proc.returncode})\n"


def blocks(doc: str) -> dict[str, str]:
    """The generated blocks of the doc: case name -> text."""
    return {name: text for name, text in _MARKER.findall(doc)}


def write(texts: dict[str, str]) -> None:
    doc = DOC.read_text(encoding="utf-8")

    def fill(match: re.Match[str]) -> str:
        return f"<!-- generated: {match[1]} -->\n```text\n{texts[match[1]]}```\n"

    DOC.write_text(_MARKER.sub(fill, doc), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--write", action="store_true", help="rewrite the blocks of the doc")
    args = parser.parse_args()
    texts = generate()
    if args.write:
        write(texts)
    else:
        for name, text in texts.items():
            print(f"--- {name}: {CASES[name]}\n{text}")


if __name__ == "__main__":
    main()

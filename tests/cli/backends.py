"""Two ways to run one stack of the counter program: the test engine, or the real Pulumi CLI.

A scenario in test_scenarios.py is written once against :class:`Backend` and runs on both, so
every engine behaviour the ledger (docs/engine-fidelity.md) claims is checked against the real
engine wherever ``pulumi`` is installed. What a scenario may look at is what both can show:

* whether the command succeeded, and the text it printed (diagnostics in the CLI's words);
* the resource operations, by resource name (the CLI's ``--json`` output);
* the calls the counter provider received (it logs them to a file, whoever runs it);
* the stack as ``pulumi stack export --show-secrets`` prints it.

The CLI backend uses a local file backend and the passphrase secrets provider, in a temporary
folder. It has not run on the machines this project is built on (no CLI there); where ``pulumi``
is absent its tests are skipped with that reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pulumi_metal_reset.testing.engine import TestEngine
from tests.counter_log import TOKEN, read_calls, read_mutations

PASSPHRASE = "scenario-passphrase"


@dataclass
class Outcome:
    """What one command did, as both backends can show it."""

    ok: bool
    #: Resource name -> operation, the stack left out.
    ops: dict[str, str]
    #: Everything the command printed (diagnostics included).
    text: str

    def shows(self, message: str) -> bool:
        """True when every line of ``message`` appears in the output (the CLI indents the
        continuation lines of a multi-line diagnostic)."""
        return all(line.strip() in self.text for line in message.splitlines() if line.strip())


class Backend:
    """One stack (``dev``) of a copy of the counter program, driven by some engine."""

    name = "backend"

    def __init__(self, project: Path, log: Path, work: Path) -> None:
        self.project = project
        self.log = log
        self.work = work

    def config(self, values: dict[str, str]) -> dict[str, str]:
        """The plain stack config for a run: the provider's log file plus ``values``."""
        return {"log": str(self.log), **values}

    def run(self, command: str, config: dict[str, str], **flags: Any) -> Outcome:
        """Run ``command`` (preview, up, refresh, destroy, import) with ``config``."""
        raise NotImplementedError

    def export(self) -> dict[str, dict[str, Any]]:
        """The stack's resources by name, as ``pulumi stack export --show-secrets`` has them."""
        raise NotImplementedError

    def calls(self) -> list[dict[str, Any]]:
        """Every call the counter provider received, in order."""
        return read_calls(self.log)

    def mutations(self) -> list[tuple[str, str]]:
        """``(call, name)`` of the create/update/delete calls the provider received."""
        return read_mutations(self.log)


def _resources(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    resources = document.get("deployment", {}).get("resources", [])
    return {r["urn"].split("::")[-1]: r for r in resources if not r.get("delete")}


class EngineBackend(Backend):
    """The test engine: one TestEngine per run, state in the work folder."""

    name = "engine"

    def _engine(self, config: dict[str, str]) -> TestEngine:
        return TestEngine(
            self.project,
            config=self.config(config),
            secret_config={"token": TOKEN},
            state_path=self.work / "state.json",
        )

    def run(self, command: str, config: dict[str, str], **flags: Any) -> Outcome:
        engine = self._engine(config)
        if command == "import":
            result = engine.import_resource(*flags["args"])
        else:
            result = getattr(engine, command)(**flags)
        return Outcome(result.ok, result.ops(), result.render() + (result.error or ""))

    def export(self) -> dict[str, dict[str, Any]]:
        return _resources(self._engine({}).export(show_secrets=True))


class CliBackend(Backend):
    """The real ``pulumi`` CLI on a local file backend with a passphrase."""

    name = "cli"

    def __init__(self, project: Path, log: Path, work: Path) -> None:
        super().__init__(project, log, work)
        (work / "backend").mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ)
        self.env.update(
            PULUMI_BACKEND_URL=f"file://{work / 'backend'}",
            PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
            PULUMI_SKIP_UPDATE_CHECK="1",
            PULUMI_PYTHON_CMD=sys.executable,
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}",
        )
        self._pulumi("stack", "init", "dev", check=True)
        self._pulumi("config", "set", "--secret", "token", TOKEN, check=True)

    def _pulumi(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["pulumi", *args, "--non-interactive", "--color", "never"],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def _write_config(self, config: dict[str, str]) -> None:
        """Keep the encrypted token and the salt; replace every plain value."""
        path = self.project / "Pulumi.dev.yaml"
        data = yaml.safe_load(path.read_text()) or {}
        kept: dict[str, Any] = {
            k: v for k, v in (data.get("config") or {}).items() if isinstance(v, dict)
        }
        kept.update({f"counter:{k}": v for k, v in self.config(config).items()})
        data["config"] = kept
        path.write_text(yaml.safe_dump(data))

    def run(self, command: str, config: dict[str, str], **flags: Any) -> Outcome:
        self._write_config(config)
        args = [command]
        if command == "import":
            args += [*flags.pop("args"), "--yes"]
        elif command != "preview":
            planned = flags.get("plan") is not None or flags.get("strict")
            args += ["--yes"] + ([] if planned else ["--skip-preview"])
        if command in ("preview", "up", "refresh", "destroy"):
            args += ["--json", "--show-sames"]
        for urn in flags.get("targets") or ():
            args += ["--target", urn]
        for urn in flags.get("replace") or ():
            args += ["--replace", urn]
        if flags.get("refresh"):
            args.append("--refresh")
        if flags.get("save_plan") is not None:
            args += ["--save-plan", str(flags["save_plan"])]
        if flags.get("plan") is not None:
            args += ["--plan", str(flags["plan"])]
        if flags.get("strict"):
            args.append("--strict")
        if flags.get("expect_no_changes"):
            args.append("--expect-no-changes")
        done = self._pulumi(*args)
        ops, diagnostics = _parse_json_output(done.stdout)
        text = "\n".join([*diagnostics, done.stdout, done.stderr])
        return Outcome(done.returncode == 0, ops, text)

    def export(self) -> dict[str, dict[str, Any]]:
        done = self._pulumi("stack", "export", "--show-secrets", check=True)
        return _resources(json.loads(done.stdout))


def _parse_json_output(stdout: str) -> tuple[dict[str, str], list[str]]:
    """Ops and diagnostics from ``--json``: a preview digest (``display.PreviewDigest``) or a
    stream of engine events, one per line (``apitype.EngineEvent``)."""
    ops: dict[str, list[str]] = {}
    results: dict[str, str] = {}
    diagnostics: list[str] = []
    try:
        digest = json.loads(stdout)
    except ValueError:
        digest = None
    if isinstance(digest, dict) and not {"steps", "changeSummary", "diagnostics"}.isdisjoint(
        digest
    ):
        for step in digest.get("steps") or []:
            ops.setdefault(step["urn"], []).append(step["op"])
        diagnostics += [d.get("message", "") for d in digest.get("diagnostics") or []]
    else:
        for line in stdout.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if "resourcePreEvent" in event:
                meta = event["resourcePreEvent"]["metadata"]
                ops.setdefault(meta["urn"], []).append(meta["op"])
            elif "resOutputsEvent" in event:
                meta = event["resOutputsEvent"]["metadata"]
                results[meta["urn"]] = meta["op"]
            elif "diagnosticEvent" in event:
                diag = event["diagnosticEvent"]
                diagnostics.append(diag.get("prefix", "") + diag.get("message", ""))
    named: dict[str, str] = {}
    for urn, seen in ops.items():
        if urn.split("::")[2] == "pulumi:pulumi:Stack":
            continue
        if "replace" in seen:
            op = "replace"
        elif seen and seen[0] == "refresh":
            op = results.get(urn, "same")
        else:
            op = seen[0]
        named[urn.split("::")[-1]] = op
    return named, diagnostics


def copy_program(source: Path, target: Path) -> Path:
    """A private copy of a test program (its state and config never touch the repository)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "Pulumi.*.yaml"))
    return target

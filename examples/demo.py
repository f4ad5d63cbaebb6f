"""`make demo`: the quickstart stack against the local emulator: preview, up, rotate, preview, up.

Everything that points at the emulator comes from the demo stack's config, `Pulumi.demo.yaml`.
With the Pulumi CLI on PATH this is a real `pulumi up` on a local file backend in a temporary
folder; without it the same program runs through `pulumi_metal_reset.testing.TestEngine` (the
real Python SDK and provider server, a stand-in engine), and the demo says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import yaml

from pulumi_metal_reset.emulator import DEV_USER, Emulator
from pulumi_metal_reset.testing.engine import RunResult, Secret, TestEngine

ROOT = Path(__file__).resolve().parents[1]
STACK = "demo"


class Runner(Protocol):
    def preview(self) -> None: ...
    def up(self) -> None: ...
    def set_config(self, key: str, value: str) -> None: ...
    def exported_password(self) -> str | None: ...


def banner(text: str) -> None:
    bold, plain = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
    print(f"\n{bold}==> {text}{plain}", flush=True)


class EngineRunner:
    """The test engine: real SDK and provider server, stand-in engine, plain-JSON state."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.state = project / ".demo-state.json"
        self.last: RunResult | None = None

    def _engine(self) -> TestEngine:
        # Built per run: the engine reads Pulumi.demo.yaml when it is created.
        return TestEngine(self.project, stack=STACK, state_path=self.state)

    def _show(self, result: RunResult) -> None:
        print(result.render(), end="", flush=True)
        if not result.ok:
            raise SystemExit(f"demo: the {result.kind} failed (see Diagnostics above)")
        self.last = result

    def preview(self) -> None:
        self._show(self._engine().preview())

    def up(self) -> None:
        self._show(self._engine().up())

    def set_config(self, key: str, value: str) -> None:
        path = self.project / f"Pulumi.{STACK}.yaml"
        document = yaml.safe_load(path.read_text())
        document["config"][key] = value
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        print(f"$ pulumi config set {key} {value}   (written to Pulumi.{STACK}.yaml)")

    def exported_password(self) -> str | None:
        value = self.last.outputs.get("password") if self.last else None
        revealed: Any = value.reveal() if isinstance(value, Secret) else value
        return None if revealed is None else str(revealed)


class CliRunner:
    """The real Pulumi CLI on a local file backend with a passphrase secrets provider."""

    def __init__(self, project: Path) -> None:
        self.project = project
        backend = project / ".pulumi-backend"
        backend.mkdir()
        self.env = dict(os.environ)
        self.env.update(
            PULUMI_BACKEND_URL=f"file://{backend}",
            PULUMI_CONFIG_PASSPHRASE="metal-reset-demo",  # noqa: S106 (throwaway demo stack)
            PULUMI_SKIP_UPDATE_CHECK="1",
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        self._run("stack", "init", STACK, quiet=True)

    def _run(self, *args: str, quiet: bool = False) -> str:
        print(f"$ pulumi {' '.join(args)}", flush=True)
        done = subprocess.run(
            ["pulumi", *args, "--non-interactive"],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if not quiet or done.returncode:
            print(done.stdout + done.stderr, end="", flush=True)
        if done.returncode:
            raise SystemExit(f"demo: `pulumi {' '.join(args)}` failed")
        return done.stdout

    def preview(self) -> None:
        self._run("preview", "--diff")

    def up(self) -> None:
        self._run("up", "--yes")

    def set_config(self, key: str, value: str) -> None:
        self._run("config", "set", key, value)

    def exported_password(self) -> str | None:
        out = self._run("stack", "output", "password", "--show-secrets", quiet=True).strip()
        return out or None


def copy_project(destination: Path) -> Path:
    """The root project (which runs the quickstart) and the demo stack, outside the checkout."""
    project = destination / "project"
    (project / "examples").mkdir(parents=True)
    shutil.copytree(
        ROOT / "examples" / "quickstart",
        project / "examples" / "quickstart",
        ignore=shutil.ignore_patterns("__pycache__", ".pulumi-test-state"),
    )
    for name in ("Pulumi.yaml", f"Pulumi.{STACK}.yaml"):
        shutil.copy(ROOT / name, project / name)
    return project


def emulator_port() -> int:
    config = yaml.safe_load((ROOT / f"Pulumi.{STACK}.yaml").read_text())["config"]
    port: int | None = urlsplit(str(config["equinix:endpoint"])).port
    if port is None:
        raise SystemExit(f"demo: equinix:endpoint in Pulumi.{STACK}.yaml has no port")
    return port


def main() -> None:
    port = emulator_port()
    with tempfile.TemporaryDirectory(prefix="metal-reset-demo-") as tmp:
        project = copy_project(Path(tmp))
        try:
            emulator = Emulator(port=port).start()
        except OSError as err:
            raise SystemExit(
                f"demo: cannot start the emulator on 127.0.0.1:{port} ({err.strerror}); "
                f"free the port or change equinix:endpoint in Pulumi.{STACK}.yaml."
            ) from None
        try:
            print(f"Emulator listening at {emulator.url} (from Pulumi.{STACK}.yaml)")
            runner: Runner
            if shutil.which("pulumi"):
                print("Pulumi CLI found: running real `pulumi` commands on a local file backend.")
                runner = CliRunner(project)
            else:
                print(
                    "Pulumi CLI not found: running the same program through "
                    "pulumi_metal_reset.testing.TestEngine (real SDK and provider server, "
                    "stand-in engine)."
                )
                runner = EngineRunner(project)
            run_demo(runner, emulator)
        finally:
            emulator.stop()
            print("\nEmulator stopped.")


def run_demo(runner: Runner, emulator: Emulator) -> None:
    banner("pulumi preview: nothing exists yet")
    runner.preview()
    banner("pulumi up: POST mails the token, then rotate_on_create sends DELETE")
    runner.up()
    report(runner, emulator)

    banner("rotate on demand: change the rotation trigger in the stack config")
    runner.set_config("metal-reset-quickstart:rotationTicket", "SEC-2")
    banner("pulumi preview: shows the update and why, with no API call")
    emulator.reset_journal()
    runner.preview()
    banner("pulumi up: one DELETE rotates the password")
    runner.up()
    report(runner, emulator)


def report(runner: Runner, emulator: Emulator) -> None:
    calls = [f"{e.method} {e.path} -> {e.status}" for e in emulator.journal]
    print("API calls the emulator saw:", *(calls or ["none"]), sep="\n    ")
    matches = runner.exported_password() == emulator.password_of(DEV_USER)
    print(f"Exported password (a secret) matches the emulator's current one: {matches}")
    if not matches:
        raise SystemExit("demo: the exported password is not the emulator's current password")
    emulator.reset_journal()


if __name__ == "__main__":
    main()

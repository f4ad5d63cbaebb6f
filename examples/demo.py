"""`make demo`: the quickstart stack against the local emulator: preview, up, rotate, preview, up.

`python examples/demo.py --deliver` walks through write-only rotation instead: the
consume-secret example against the emulator, with a throw-away GnuPG key and `pass` store in a
temporary folder; it ends with the password in `pass` and nowhere in the stack's state.

Everything that points at the emulator comes from the demo stack's config, `Pulumi.demo.yaml`;
`--port 0` starts the emulator on any free port instead and points the demo's copy of the stack
at it (the tests do, since 18787 may be taken on a shared machine).
With the Pulumi CLI on PATH this is a real `pulumi up` on a local file backend in a temporary
folder; without it the same program runs through `pulumi_metal_reset.testing.TestEngine` (the
real Python SDK and provider server, a stand-in engine), and the demo says so.
"""

from __future__ import annotations

import argparse
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
    def state_text(self) -> str: ...


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

    def state_text(self) -> str:
        """The whole state, secrets in clear text (the test engine does not encrypt them)."""
        return self.state.read_text()


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

    def state_text(self) -> str:
        """The whole state, secrets decrypted."""
        return self._run("stack", "export", "--show-secrets", quiet=True)


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


def copy_delivery_project(destination: Path) -> Path:
    """The consume-secret example, with a demo stack pointing at the emulator."""
    project = destination / "consume-secret"
    shutil.copytree(
        ROOT / "examples" / "consume-secret",
        project,
        ignore=shutil.ignore_patterns("__pycache__", ".pulumi-test-state"),
    )
    config = yaml.safe_load((ROOT / f"Pulumi.{STACK}.yaml").read_text())["config"]
    stack = {"config": {k: v for k, v in config.items() if k.startswith("equinix:")}}
    (project / f"Pulumi.{STACK}.yaml").write_text(yaml.safe_dump(stack, sort_keys=False))
    return project


#: A key without a passphrase, for a store that lives as long as the demo.
KEY_PARAMETERS = """\
%no-protection
Key-Type: EDDSA
Key-Curve: ed25519
Subkey-Type: ECDH
Subkey-Curve: cv25519
Name-Real: pulumi-metal-reset demo
Name-Email: demo@example.invalid
Expire-Date: 0
%commit
"""


def show(*argv: str, stdin: str | None = None) -> str:
    """Run a command as the user would, printing it; its output is returned, not printed."""
    print("$ " + " ".join(argv), flush=True)
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"demo: `{' '.join(argv)}` failed: {done.stderr.strip()}")
    return done.stdout


def make_pass_store(folder: Path) -> None:
    """A throw-away GnuPG home and pass store, set in this process's environment as a user's
    shell would have them: the provider process, and so `pass insert`, inherits them."""
    missing = [tool for tool in ("pass", "gpg", "gpgconf") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(
            f"demo: --deliver needs {', '.join(missing)}; install Debian's pass and gnupg "
            "(apt-get install pass gnupg)."
        )
    home = tempfile.mkdtemp(prefix="mr-demo-gpg-")  # short: gpg-agent's socket lives here
    os.environ["GNUPGHOME"] = home
    os.environ["PASSWORD_STORE_DIR"] = str(folder / "password-store")
    print(f"$ export GNUPGHOME={home} PASSWORD_STORE_DIR={folder / 'password-store'}")
    show("gpg", "--batch", "--quiet", "--gen-key", stdin=KEY_PARAMETERS)
    listing = show("gpg", "--batch", "--with-colons", "--list-secret-keys")
    key = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    show("pass", "init", key)


def drop_pass_store() -> None:
    home = os.environ.get("GNUPGHOME")
    if home:
        subprocess.run(["gpgconf", "--kill", "all"], check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def emulator_port() -> int:
    config = yaml.safe_load((ROOT / f"Pulumi.{STACK}.yaml").read_text())["config"]
    port: int | None = urlsplit(str(config["equinix:endpoint"])).port
    if port is None:
        raise SystemExit(f"demo: equinix:endpoint in Pulumi.{STACK}.yaml has no port")
    return port


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port; give 0-65535 (0: any free one)")
    return port


def point_at(project: Path, url: str) -> None:
    """Set the copied demo stack's endpoint to the emulator actually listening (--port 0)."""
    path = project / f"Pulumi.{STACK}.yaml"
    stack = yaml.safe_load(path.read_text())
    stack["config"]["equinix:endpoint"] = url
    path.write_text(yaml.safe_dump(stack, sort_keys=False))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="demo.py", description=__doc__.splitlines()[0])
    parser.add_argument("--deliver", action="store_true", help="the write-only delivery demo")
    parser.add_argument(
        "--port",
        type=_port,
        help=f"the emulator's port (default: the one in Pulumi.{STACK}.yaml; 0: any free one)",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    delivering = bool(args.deliver)
    port = emulator_port() if args.port is None else args.port
    with tempfile.TemporaryDirectory(prefix="metal-reset-demo-") as tmp:
        if delivering:
            banner("a throw-away GnuPG key and pass store, as your shell would have them")
            make_pass_store(Path(tmp))
        project = copy_delivery_project(Path(tmp)) if delivering else copy_project(Path(tmp))
        try:
            emulator = Emulator(port=port).start()
        except OSError as err:
            raise SystemExit(
                f"demo: cannot start the emulator on 127.0.0.1:{port} ({err.strerror}); "
                f"free the port or change equinix:endpoint in Pulumi.{STACK}.yaml."
            ) from None
        try:
            if args.port is None:
                print(f"Emulator listening at {emulator.url} (from Pulumi.{STACK}.yaml)")
            else:
                point_at(project, emulator.url)
                print(f"Emulator listening at {emulator.url} (--port {args.port})")
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
            (run_delivery_demo if delivering else run_demo)(runner, emulator)
        finally:
            emulator.stop()
            print("\nEmulator stopped.")
            if delivering:
                drop_pass_store()


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


def run_delivery_demo(runner: Runner, emulator: Emulator) -> None:
    banner("pulumi preview: deliver_to is a plain input, so reviewers see where passwords go")
    runner.preview()
    banner("pulumi up: POST, DELETE, then `pass insert` gets the password on standard input")
    runner.up()
    report_delivery(runner, emulator)

    banner("rotate on demand: the store gets the new password, the state still none")
    runner.set_config("metal-reset-consume-secret:rotationTicket", "SEC-2")
    runner.up()
    report_delivery(runner, emulator)


def report_delivery(runner: Runner, emulator: Emulator) -> None:
    calls = [f"{e.method} {e.path} -> {e.status}" for e in emulator.journal]
    print("API calls the emulator saw:", *(calls or ["none"]), sep="\n    ")
    stored = show("pass", "show", "metal/ops")
    current = emulator.password_of(DEV_USER)
    print(f"`pass show metal/ops` is the emulator's current password: {stored == current}")
    in_state = current is not None and current in runner.state_text()
    print(f"The password appears in the stack's state (secrets decrypted): {in_state}")
    if stored != current or in_state:
        raise SystemExit("demo: the password is not where write-only delivery puts it")
    emulator.reset_journal()


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

"""`deliver.command`: the real `pass`, and shell scripts standing for stores that misbehave."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from pulumi_metal_reset import deliver
from pulumi_metal_reset.delivery import fingerprint
from pulumi_metal_reset.delivery.errors import DeliveryFailedError, PreflightError
from pulumi_metal_reset.delivery.ledger import FINGERPRINT_CONTEXT
from pulumi_metal_reset.delivery.models import CommandTarget, parse_target
from pulumi_metal_reset.delivery.scrub import MARKER
from pulumi_metal_reset.delivery.sinks import (
    RetryPolicy,
    _Tail,
    child_environment,
    preflight,
)
from pulumi_metal_reset.delivery.sinks import (
    deliver as deliver_to,
)
from tests.delivery.store import PasswordStore

PASS_INSERT = ["pass", "insert", "--multiline", "--force", "metal/ops"]
TOKEN = "tok-PLANTED-abc123"
NO_WAIT = RetryPolicy(attempts=3, first_wait=0, max_wait=0)


def script(folder: Path, name: str, body: str) -> str:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def command(argv: list[str], **options: object) -> CommandTarget:
    target = parse_target(deliver.command(argv, **options))  # type: ignore[arg-type]
    assert isinstance(target, CommandTarget)
    return target


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (PID 1 here may not reap them)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.secret_store
def test_pass_receives_the_password(password_store: PasswordStore, password: str) -> None:
    target = command(PASS_INSERT, env=password_store.env)
    preflight(target)
    delivered = deliver_to(target, password)
    assert delivered.attempts == 1
    assert delivered.description == (
        "command: pass insert --multiline --force metal/ops (env: GNUPGHOME, PASSWORD_STORE_DIR)"
    )
    assert password_store.show("metal/ops") == password


@pytest.mark.secret_store
@pytest.mark.openssl
def test_pass_overwrites_and_the_fingerprint_recipe_reads_the_store(
    password_store: PasswordStore, password: str
) -> None:
    target = command(PASS_INSERT, env=password_store.env)
    deliver_to(target, "an older password")
    deliver_to(target, password)
    assert password_store.show("metal/ops") == password
    recipe = (
        f'pass show metal/ops | openssl dgst -sha256 -hmac "{FINGERPRINT_CONTEXT}$RID"'
        " | sed 's/.* /fp-/' | cut -c1-19"
    )
    out = subprocess.run(
        ["sh", "-c", recipe],
        env={**os.environ, **password_store.env, "RID": "resource-7"},
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    assert out.strip() == fingerprint(password, "resource-7")


def test_the_password_travels_on_standard_input_only(tmp_path: Path, password: str) -> None:
    spy = script(
        tmp_path,
        "spy",
        'cat > "$OUT/stdin"\n'
        'printf "%s\\n" "$0" "$@" > "$OUT/argv"\n'
        'env > "$OUT/env"\n'
        'tr "\\0" "\\n" < /proc/$$/cmdline > "$OUT/cmdline"\n',
    )
    target = command([spy, "metal/ops"], env={"OUT": str(tmp_path)})
    deliver_to(target, password, environ={**os.environ, "METAL_AUTH_TOKEN": TOKEN})
    assert (tmp_path / "stdin").read_bytes() == password.encode()  # exactly, no newline
    for name in ("argv", "env", "cmdline"):
        assert password not in (tmp_path / name).read_text()
    # The package's own API token is withheld from the command.
    assert TOKEN not in (tmp_path / "env").read_text()
    assert "OUT=" in (tmp_path / "env").read_text()


def test_a_failing_command_is_retried_and_reported_scrubbed(tmp_path: Path, password: str) -> None:
    echo = script(
        tmp_path,
        "refuse",
        'echo x >> "$0.calls"\n'
        'read -r line || true\necho "Error: refused \\"$line\\" with token $T" >&2\nexit 3\n',
    )
    target = command([echo])
    waits: list[float] = []
    with pytest.raises(DeliveryFailedError) as caught:
        deliver_to(
            target,
            password,
            hide=[TOKEN],
            environ={**os.environ, "T": TOKEN},
            sleep=waits.append,
        )
    err = caught.value
    assert err.attempts == 3
    assert len(Path(echo + ".calls").read_text().split()) == 3
    assert waits == [1.0, 2.0]  # exponential backoff from 1 s (recorded, not slept)
    assert err.cause == (
        f'{echo} exited with status 3: Error: refused "{MARKER}" with token {MARKER}'
    )
    for text in (str(err), repr(err), err.cause):
        assert password not in text
        assert TOKEN not in text
    assert err.__context__ is None


def test_a_command_that_fails_twice_then_works_is_delivered(tmp_path: Path, password: str) -> None:
    flaky = script(
        tmp_path,
        "flaky",
        'echo x >> "$0.calls"\n'
        '[ "$(wc -l < "$0.calls")" -ge 3 ] || { echo busy >&2; exit 75; }\n'
        'cat > "$0.stored"\n',
    )
    delivered = deliver_to(command([flaky]), password, retry=NO_WAIT)
    assert delivered.attempts == 3
    assert Path(flaky + ".stored").read_text() == password


def test_silent_failures_and_signals_are_described(tmp_path: Path, password: str) -> None:
    quiet = script(tmp_path, "quiet", "exit 1\n")
    with pytest.raises(DeliveryFailedError, match="exited with status 1 and wrote nothing"):
        deliver_to(command([quiet]), password, retry=RetryPolicy(attempts=1))
    killed = script(tmp_path, "killed", "kill -TERM $$\n")
    with pytest.raises(DeliveryFailedError, match="was killed by SIGTERM"):
        deliver_to(command([killed]), password, retry=RetryPolicy(attempts=1))


def test_a_hanging_command_is_stopped_with_its_whole_process_group(
    tmp_path: Path, password: str
) -> None:
    hang = script(
        tmp_path,
        "hang",
        'sleep 300 &\necho $! > "$0.child"\necho "stuck with $(cat)" >&2\nsleep 300\n',
    )
    with pytest.raises(DeliveryFailedError) as caught:
        deliver_to(command([hang], timeout=1), password, retry=RetryPolicy(attempts=1))
    assert caught.value.cause.startswith(f"{hang} did not finish within 1 s and was stopped")
    assert f"it said: stuck with {MARKER}" in caught.value.cause
    assert password not in str(caught.value)
    child = int(Path(hang + ".child").read_text())
    # SIGKILL was sent to the group; the kernel finishes the exit a moment after the pipe closes.
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not alive(child), "the command's background child outlived the timeout"


def test_a_missing_command_is_refused_by_the_preflight() -> None:
    target = command(["metal-reset-no-such-store"], env={"PATH": "/usr/bin:/bin"})
    with pytest.raises(PreflightError) as caught:
        preflight(target)
    assert caught.value.problem == (
        "the delivery command metal-reset-no-such-store was not found on the PATH the provider "
        "process sees (/usr/bin:/bin)"
    )
    assert caught.value.remedy == "install it, or give its absolute path as deliver_to.argv[0]"


def test_absolute_commands_that_cannot_run_are_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("#!/bin/sh\n")
    plain.chmod(0o644)
    cases = {
        str(tmp_path / "absent"): "does not exist",
        str(tmp_path): "is a folder",
        str(plain): "is not executable",
    }
    for program, problem in cases.items():
        with pytest.raises(PreflightError, match=problem):
            preflight(command([program]))


def test_the_path_in_env_is_the_one_searched(tmp_path: Path, password: str) -> None:
    folder = tmp_path / "bin"
    folder.mkdir()
    script(folder, "my-store", 'cat > "$STORE"\n')
    path = f"{folder}:/usr/bin:/bin"
    target = command(["my-store"], env={"PATH": path, "STORE": str(tmp_path / "out")})
    preflight(target)
    deliver_to(target, password)
    assert (tmp_path / "out").read_text() == password
    with pytest.raises(PreflightError):
        preflight(command(["my-store"], env={"PATH": "/usr/bin:/bin"}))


def test_a_command_gone_after_the_preflight_is_a_delivery_failure(
    tmp_path: Path, password: str
) -> None:
    gone = script(tmp_path, "gone", "cat > /dev/null\n")
    target = command([gone])
    preflight(target)
    os.unlink(gone)
    with pytest.raises(DeliveryFailedError, match="does not exist") as caught:
        deliver_to(target, password, retry=NO_WAIT)
    assert caught.value.attempts == 3


def test_the_child_environment_is_the_providers_plus_env_minus_the_token() -> None:
    """Neither this package's token nor the passphrase of the stack's secrets reaches a sink;
    PULUMI_ACCESS_TOKEN does, since `esc env set` needs it."""
    target = command(["pass"], env={"PASSWORD_STORE_DIR": "/srv/pass"})
    provider_env = {
        "HOME": "/root",
        "METAL_AUTH_TOKEN": TOKEN,
        "PULUMI_CONFIG_PASSPHRASE": "stack-passphrase",
        "PULUMI_CONFIG_PASSPHRASE_FILE": "/run/passphrase",
        "PULUMI_ACCESS_TOKEN": "pul-abc",
    }
    env = child_environment(target, provider_env)
    assert env == {
        "HOME": "/root",
        "PASSWORD_STORE_DIR": "/srv/pass",
        "PULUMI_ACCESS_TOKEN": "pul-abc",
    }


def test_an_inherited_credential_the_command_prints_is_scrubbed(
    tmp_path: Path, password: str
) -> None:
    """A store's own credential comes from the environment the command inherits; when the
    command prints it, it is removed like the password (values of a fragment's length or more,
    so that short ones do not blank out ordinary words)."""
    vault_token = "hvs.CAESIJ-inherited-vault-token"
    leaky = script(
        tmp_path, "leaky", 'cat >/dev/null\necho "auth with $VAULT_TOKEN failed" >&2\nexit 2\n'
    )
    with pytest.raises(DeliveryFailedError) as caught:
        deliver_to(
            command([leaky]),
            password,
            retry=RetryPolicy(attempts=1),
            environ={**os.environ, "VAULT_TOKEN": vault_token},
        )
    assert caught.value.cause == f"{leaky} exited with status 2: auth with {MARKER} failed"


def test_scripts_are_executable_as_written(tmp_path: Path) -> None:
    """Guards the helper above: a script that could not run would fail for the wrong reason."""
    path = Path(script(tmp_path, "ok", "exit 0\n"))
    assert path.stat().st_mode & stat.S_IXUSR
    assert subprocess.run([str(path)], check=False).returncode == 0


@pytest.mark.parametrize("body", ["exit 0\n", "head -c 3 >/dev/null\n"])
def test_a_command_that_exits_0_without_reading_the_password_has_not_delivered_it(
    tmp_path: Path, password: str, body: str
) -> None:
    """A wrong flag or a wrapper that ignores its input exits 0 with the password unread;
    counting that as delivered could leave the new password nowhere."""
    ignores = script(tmp_path, "ignores", body)
    with pytest.raises(DeliveryFailedError) as caught:
        deliver_to(command([ignores]), password, retry=RetryPolicy(attempts=1))
    assert f"{ignores} exited with status 0 without reading the whole password" in (
        caught.value.cause
    )
    assert password not in str(caught.value)


def test_a_helper_left_holding_standard_error_does_not_hold_up_the_delivery(
    tmp_path: Path, password: str
) -> None:
    """`communicate` would wait for standard error to close; a daemon the command starts (an
    agent, a cache) keeps it open, and the delivery would time out though it succeeded."""
    starts_helper = script(
        tmp_path,
        "starts-helper",
        'cat > "$0.stored"\nsleep 30 &\necho $! > "$0.helper"\necho stored >&2\n',
    )
    began = time.monotonic()
    try:
        delivered = deliver_to(
            command([starts_helper], timeout=10), password, retry=RetryPolicy(attempts=1)
        )
        took = time.monotonic() - began
    finally:
        os.kill(int(Path(starts_helper + ".helper").read_text()), signal.SIGKILL)
    assert delivered.attempts == 1
    assert Path(starts_helper + ".stored").read_text() == password
    assert took < 8, took


def test_only_the_end_of_a_flood_on_standard_error_is_kept(tmp_path: Path, password: str) -> None:
    """What a command writes is read as it comes and cut to what the message can use."""
    floods = script(
        tmp_path,
        "floods",
        "cat >/dev/null\nhead -c 20000000 /dev/zero | tr '\\0' x >&2\necho ' the end' >&2\n"
        "exit 3\n",
    )
    with pytest.raises(DeliveryFailedError) as caught:
        deliver_to(command([floods]), password, retry=RetryPolicy(attempts=1))
    assert caught.value.cause.endswith("x the end")
    assert "exited with status 3" in caught.value.cause


def test_the_tail_keeps_no_more_than_its_limit() -> None:
    read_end, write_end = os.pipe()
    tail = _Tail(os.fdopen(read_end, "rb"))
    with os.fdopen(write_end, "wb") as writer:
        writer.write(b"a" * (3 * _Tail.LIMIT) + b"end")
    kept = tail.bytes(5.0)
    assert len(kept) == _Tail.LIMIT
    assert kept.endswith(b"aend")


def test_a_password_larger_than_the_pipe_is_fed_whole_or_found_unread(tmp_path: Path) -> None:
    """The rest that does not fit in the pipe goes from a thread; a command that stops reading
    leaves it blocked, which counts as unread, and the thread still ends."""
    big = "p" * 300_000
    reads_all = script(tmp_path, "reads-all", 'cat > "$0.stored"\n')
    reads_some = script(tmp_path, "reads-some", "head -c 10 >/dev/null\n")
    deliver_to(command([reads_all]), big, retry=RetryPolicy(attempts=1))
    assert Path(reads_all + ".stored").read_text() == big
    with pytest.raises(DeliveryFailedError, match="without reading the whole password"):
        deliver_to(command([reads_some]), big, retry=RetryPolicy(attempts=1))

"""The sinks: check one can work (before the DELETE), then hand it the password (after).

No Pulumi, no HTTP. The password travels only on a command's standard input or into a file
created with its final mode before the first byte; it is never in an argument, an environment
variable, an exception, a log line or a repr (callers pass it as a SecretStr).
Imported only when a delivery is due: the provider process starts without it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
import signal
import stat
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from pulumi_metal_reset.connection import SecretValue, reveal
from pulumi_metal_reset.delivery.errors import DeliveryFailedError, PreflightError
from pulumi_metal_reset.delivery.ledger import describe
from pulumi_metal_reset.delivery.models import CommandTarget, FileTarget, credential_like
from pulumi_metal_reset.delivery.scrub import MIN_FRAGMENT, WINDOW, one_line, scrub

__all__ = [
    "WITHHELD_ENV",
    "Delivered",
    "RetryPolicy",
    "child_environment",
    "deliver",
    "preflight",
    "write_atomically",
]

#: Never passed on to a delivery command: no sink needs this package's own API token or the
#: passphrase that decrypts the stack's secrets. (PULUMI_ACCESS_TOKEN is passed: `esc` needs it.)
WITHHELD_ENV = frozenset(
    {"METAL_AUTH_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"}
)
#: How long a killed command's pipes may take to close before its output is given up.
_REAP_SECONDS = 5.0
#: How long after a command exits its standard error may take to close (a helper it started
#: may hold it open); what it wrote before exiting is read by then.
_GRACE_SECONDS = 1.0
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts in all (first one included), and exponential waits between them, in seconds."""

    attempts: int = 3
    first_wait: float = 1.0
    max_wait: float = 8.0


@dataclass(frozen=True)
class Delivered:
    description: str
    attempts: int


class _AttemptFailed(Exception):
    """One attempt failed; `cause` is a scrubbed clause. Never leaves this module."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def child_environment(
    target: CommandTarget, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The provider's environment (this package's token withheld) with `env` laid over it."""
    base = os.environ if environ is None else environ
    return {k: v for k, v in base.items() if k not in WITHHELD_ENV} | target.env


def _short(text: str, limit: int = 200) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _program(target: CommandTarget, env: Mapping[str, str]) -> str:
    """The executable the command resolves to, as the child's PATH finds it."""
    name = target.argv[0]
    if name.startswith("/"):
        remedy = "correct deliver_to.argv[0], or install the program there"
        if not os.path.exists(name):
            raise PreflightError(f"the delivery command {name} does not exist", remedy)
        if os.path.isdir(name):
            raise PreflightError(f"the delivery command {name} is a folder", remedy)
        if not os.access(name, os.X_OK):
            raise PreflightError(
                f"the delivery command {name} is not executable", f"run chmod +x {name}"
            )
        return name
    path = env.get("PATH", os.defpath)
    found = shutil.which(name, path=path)
    if found is None:
        raise PreflightError(
            f"the delivery command {_short(name, 80)} was not found on the PATH the provider "
            f"process sees ({_short(path)})",
            "install it, or give its absolute path as deliver_to.argv[0]",
        )
    return os.path.abspath(found)


#: How /proc/self/mountinfo escapes a space, tab, newline or backslash in a mount point.
_OCTAL = re.compile(r"\\([0-7]{3})")


def _is_mount_point(path: str) -> bool:
    """True for a file mounted over `path`: a bind mount within one filesystem keeps its
    device, so Linux's mount table is read too (unescaped as `/proc/self/mountinfo` writes it)."""
    if os.path.ismount(path):
        return True
    where = os.path.join(os.path.realpath(os.path.dirname(path) or "/"), os.path.basename(path))
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as table:
            points = {fields[4] for fields in map(str.split, table) if len(fields) > 4}
    except OSError:
        return False  # no such table (not Linux): os.path.ismount has answered
    return any(_OCTAL.sub(lambda m: chr(int(m[1], 8)), p) == where for p in points)


def _check_file(target: FileTarget) -> None:
    path = target.path
    folder = os.path.dirname(path) or "/"
    remedy = "create it, or correct deliver_to.path"
    try:
        folder_info = os.stat(folder)
        is_folder = stat.S_ISDIR(folder_info.st_mode)
    except FileNotFoundError:
        raise PreflightError(
            f"the folder {folder} of deliver_to.path does not exist", remedy
        ) from None
    except NotADirectoryError:
        raise PreflightError(
            f"a part of {folder} is not a folder", "correct deliver_to.path"
        ) from None
    except OSError as err:
        raise PreflightError(
            f"the folder {folder} cannot be reached ({err.strerror})",
            "give the user running `pulumi up` access to it, or choose another path",
        ) from None
    if not is_folder:
        raise PreflightError(f"{folder} is not a folder", "correct deliver_to.path")
    if folder_info.st_mode & stat.S_IWOTH:
        raise PreflightError(
            f"the folder {folder} is writable by every user, so another user could put a file "
            "there first and be given the password",
            "choose a folder that only the user running `pulumi up` and the password's readers "
            "can write",
        )
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        found = None
    except OSError as err:
        raise PreflightError(
            f"{path} cannot be inspected ({err.strerror})", "correct deliver_to.path"
        ) from None
    if found is not None:
        if stat.S_ISLNK(found.st_mode):
            raise PreflightError(
                f"{path} is a symbolic link, which an atomic write would replace by a file",
                "give the path of the file it points to",
            )
        if stat.S_ISDIR(found.st_mode):
            raise PreflightError(
                f"{path} is a folder", f"give a file path inside it, such as {path}/password"
            )
        if not stat.S_ISREG(found.st_mode):
            raise PreflightError(f"{path} is not a regular file", "give a regular file's path")
        if _is_mount_point(path):
            raise PreflightError(
                f"{path} is a mounted file, which an atomic rename cannot replace",
                "deliver into the mounted folder instead",
            )
    # A real probe, not os.access: root passes os.access on any folder, read-only or not.
    probe = os.path.join(folder, f".metal-reset-probe.{secrets.token_hex(6)}")
    error = None
    try:
        os.close(os.open(probe, _CREATE_FLAGS, target.mode_bits))
        os.unlink(probe)
    except OSError as err:
        error = err.strerror or type(err).__name__
    if error is not None:
        raise PreflightError(
            f"no file can be created in {folder} ({error})",
            "make the folder writable for the user running `pulumi up`, or choose another path",
        )


def preflight(target: CommandTarget | FileTarget, environ: Mapping[str, str] | None = None) -> None:
    """Raise PreflightError when the sink cannot work; run it before the password changes."""
    if isinstance(target, CommandTarget):
        _program(target, child_environment(target, environ))
    else:
        _check_file(target)


def _discard(temporary: str) -> None:
    """Remove a temporary file after a failure, which stays the error reported."""
    with contextlib.suppress(OSError):
        os.unlink(temporary)


def _fsync_folder(folder: str) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomically(
    path: str, data: bytes, mode: int, *, before_write: Callable[[str], None] | None = None
) -> None:
    """Replace `path` with `data`; no reader ever sees a partial file or a wider mode.

    A temporary file in the same folder is created exclusively with `mode`, and `fchmod` sets
    the mode again (the umask may have removed bits) before any byte is written; an existing
    file's owner and group are kept where the process may set them. Then write, fsync, rename
    over `path` and fsync the folder. `before_write(temporary_path)` runs right before the
    first byte (for audits and tests).
    """
    folder, name = os.path.split(path)
    hint = os.fsdecode(os.fsencode(name)[:100])  # a name may be 255 bytes; this one must fit
    temporary = os.path.join(folder, f".{hint}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, _CREATE_FLAGS, mode)
    try:
        try:
            existing = os.stat(path)
        except FileNotFoundError:
            existing = None
        if existing is not None:
            # Each kept where allowed (the group alone when the owner may not be set: a user
            # may give a file to any group they are in); otherwise it is the provider user's.
            with contextlib.suppress(PermissionError):
                os.fchown(descriptor, -1, existing.st_gid)
            with contextlib.suppress(PermissionError):
                os.fchown(descriptor, existing.st_uid, -1)
        os.fchmod(descriptor, mode)
        if before_write is not None:
            before_write(temporary)
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
    except BaseException:
        os.close(descriptor)
        _discard(temporary)
        raise
    os.close(descriptor)
    try:
        os.replace(temporary, path)
    except BaseException:
        _discard(temporary)
        raise
    _fsync_folder(folder or "/")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)


def _status(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def _unread(read_end: int) -> int:
    """Bytes still waiting in the pipe whose read end the provider kept."""
    buffer = fcntl.ioctl(read_end, termios.FIONREAD, b"\0\0\0\0")
    count: int = struct.unpack("i", buffer)[0]
    return count


def _feed(write_end: int, data: bytes) -> threading.Thread | None:
    """Write the password and close, so the command sees the end of its input.

    What fits in the pipe (all of any real password) is written here, before the command is
    waited for, so that nothing is still on its way when `_unread` looks; a rest that does not
    fit goes from a thread, which a command that stops reading leaves blocked.
    """
    os.set_blocking(write_end, False)
    try:
        written = os.write(write_end, data)
    except BlockingIOError:
        written = 0
    if written == len(data):
        os.close(write_end)
        return None
    os.set_blocking(write_end, True)

    def write_rest() -> None:
        try:
            view = memoryview(data)[written:]
            while view:
                view = view[os.write(write_end, view) :]
        except OSError:
            pass  # the read end was closed after the command exited: it read too little
        finally:
            os.close(write_end)

    writer = threading.Thread(target=write_rest, daemon=True)
    writer.start()
    return writer


class _Tail:
    """The last bytes a command writes to standard error, read on a thread of their own.

    `communicate` would wait for the pipe to close, and a helper the command leaves running
    (an agent, a cache daemon) may hold it open long after the command exited; nor is more kept
    than the scrubbed message can use (`scrub.WINDOW`), however much the command writes.
    """

    LIMIT = 8 * WINDOW  # bytes: more than WINDOW characters of any UTF-8 text

    def __init__(self, stream: IO[bytes]) -> None:
        self._kept = bytearray()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[bytes]) -> None:
        with stream:
            for chunk in iter(lambda: os.read(stream.fileno(), 65536), b""):
                with self._lock:
                    self._kept += chunk
                    del self._kept[: -self.LIMIT]
        self._closed.set()

    def bytes(self, grace: float) -> bytes:
        """What was read so far, waiting up to `grace` seconds for the pipe to close."""
        self._closed.wait(grace)
        with self._lock:
            return bytes(self._kept)


def _run(
    target: CommandTarget, program: str, env: Mapping[str, str], data: bytes, hidden: list[str]
) -> None:
    """One attempt: the password on standard input only; raise _AttemptFailed on failure.

    The provider keeps the read end of the input pipe, so that after the command exits it can
    tell whether the password was read: a command that exits 0 without reading it (a wrong
    flag, a wrapper that ignores its input) has not delivered it.
    """
    name = _short(target.argv[0], 80)
    read_end, write_end = os.pipe()
    start_error = None
    try:
        process = subprocess.Popen(
            target.argv,
            executable=program,
            stdin=read_end,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=dict(env),
            start_new_session=True,  # its own process group, killed whole on timeout
            close_fds=True,
        )
    except OSError as err:
        start_error = err.strerror or type(err).__name__
    if start_error is not None:
        os.close(read_end)
        os.close(write_end)
        raise _AttemptFailed(f"{name} could not be started ({start_error})")
    assert process.stderr is not None
    stderr = _Tail(process.stderr)
    writer = _feed(write_end, data)
    timed_out = False
    try:
        try:
            process.wait(timeout=target.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        if timed_out:
            _kill_group(process)
            process.wait()
        if writer is not None:  # done once the pipe had room; still blocked: input unread
            writer.join(_GRACE_SECONDS)
        unread = not timed_out and (
            (writer is not None and writer.is_alive()) or _unread(read_end) > 0
        )
    finally:
        os.close(read_end)  # a writer still blocked on a full pipe gets EPIPE and stops
    if writer is not None:
        # Stopped by the closed read end, unless a descendant that left the group holds stdin.
        writer.join(_REAP_SECONDS)
    if timed_out:
        said = scrub(stderr.bytes(_REAP_SECONDS), hidden)
        raise _AttemptFailed(
            f"{name} did not finish within {target.timeout:g} s and was stopped"
            + (f"; it said: {said}" if said else "")
        )
    if process.returncode == 0 and not unread:
        return  # delivered: what it printed is not needed, nor worth waiting for
    said = scrub(stderr.bytes(_GRACE_SECONDS), hidden)
    if process.returncode != 0:
        raise _AttemptFailed(
            f"{name} {_status(process.returncode)}"
            + (f": {said}" if said else " and wrote nothing to standard error")
        )
    if unread:
        raise _AttemptFailed(
            f"{name} exited with status 0 without reading the whole password from its standard "
            "input, so it was not delivered" + (f"; it said: {said}" if said else "")
        )


def _write(target: FileTarget, data: bytes) -> None:
    error = None
    try:
        write_atomically(target.path, data, target.mode_bits)
    except OSError as err:
        error = err.strerror or type(err).__name__
    if error is not None:
        raise _AttemptFailed(f"writing {target.path} failed ({error})")


def _inherited_credentials(env: Mapping[str, str]) -> list[str]:
    """Values the command inherits under a credential's name (VAULT_TOKEN, ...), to remove from
    what it prints: not paths, which such names also hold, and none shorter than a fragment,
    which would blank out ordinary words."""
    return [
        value
        for name, value in env.items()
        if credential_like(name) and len(value) >= MIN_FRAGMENT and not value.startswith("/")
    ]


def deliver(
    target: CommandTarget | FileTarget,
    password: str | SecretValue,
    *,
    hide: Sequence[str] = (),
    retry: RetryPolicy = RetryPolicy(),  # frozen: one shared default is safe
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivered:
    """Hand the password to the sink, retrying with backoff; raise DeliveryFailedError.

    `hide` lists other secrets (the API token) to scrub from what a command prints.
    """
    secret = reveal(password)
    data = secret.encode("utf-8")
    hidden = [secret, *hide]
    attempts = 0
    if isinstance(target, CommandTarget):
        env = child_environment(target, environ)
        hidden += _inherited_credentials(env)

        def attempt() -> None:
            nonlocal attempts
            attempts += 1
            try:
                program = _program(target, env)  # again: it may have gone since the preflight
            except PreflightError as err:
                raise _AttemptFailed(err.problem) from None
            _run(target, program, env, data, hidden)

    else:

        def attempt() -> None:
            nonlocal attempts
            attempts += 1
            _write(target, data)

    retrying = Retrying(
        stop=stop_after_attempt(max(1, retry.attempts)),
        wait=wait_exponential(multiplier=retry.first_wait, max=retry.max_wait),
        retry=retry_if_exception_type(_AttemptFailed),
        reraise=True,
        sleep=sleep,
    )
    cause = None
    try:
        retrying(attempt)
    except _AttemptFailed as err:
        cause = err.cause
    if cause is not None:
        raise DeliveryFailedError(describe(target), attempts, cause)
    return Delivered(describe(target), attempts)

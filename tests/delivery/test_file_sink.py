"""`deliver.file`: the mode from the first byte, atomic replacement, and an honest preflight."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import stat
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from pulumi_metal_reset import deliver
from pulumi_metal_reset.delivery.errors import DeliveryFailedError, PreflightError
from pulumi_metal_reset.delivery.models import FileTarget, parse_target
from pulumi_metal_reset.delivery.sinks import RetryPolicy, preflight, write_atomically
from pulumi_metal_reset.delivery.sinks import deliver as deliver_to

NOBODY = 65534


def file(path: Path | str, mode: int = 0o600) -> FileTarget:
    target = parse_target(deliver.file(str(path), mode=mode))
    assert isinstance(target, FileTarget)
    return target


@pytest.fixture
def umask() -> Iterator[None]:
    """Restore the process umask after a test that changes it."""
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


@pytest.mark.usefixtures("umask")
@pytest.mark.parametrize(
    ("mask", "mode"),
    [(0o000, 0o600), (0o022, 0o600), (0o077, 0o640), (0o277, 0o600), (0o077, 0o400)],
)
def test_the_mode_is_set_before_the_first_byte(
    tmp_path: Path, password: str, mask: int, mode: int
) -> None:
    """Whatever the umask removes, fchmod restores before anything is written.

    With umask 0277, os.open alone would give 0400; with 0077 and 0640, 0600.
    """
    seen: list[tuple[int, int]] = []

    def before_write(temporary: str) -> None:
        info = os.stat(temporary)
        seen.append((stat.S_IMODE(info.st_mode), info.st_size))

    os.umask(mask)
    path = tmp_path / "password"
    write_atomically(str(path), password.encode(), mode, before_write=before_write)
    assert seen == [(mode, 0)]
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_bytes() == password.encode()


def test_delivery_writes_exactly_the_password_with_the_mode(tmp_path: Path, password: str) -> None:
    path = tmp_path / "password"
    target = file(path, 0o640)
    preflight(target)
    delivered = deliver_to(target, password)
    assert delivered.description == f"file: {path} (0640)"
    assert path.read_bytes() == password.encode()  # no newline added
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["password"]  # no temporary left


def test_an_existing_file_is_replaced_not_rewritten(tmp_path: Path, password: str) -> None:
    path = tmp_path / "password"
    path.write_text("the old password")
    path.chmod(0o644)
    before = path.stat().st_ino
    with path.open() as reader:  # a reader that opened the old file keeps reading it whole
        deliver_to(file(path), password)
        assert reader.read() == "the old password"
    assert path.stat().st_ino != before
    assert path.read_text() == password
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # the wider old mode is not kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["password"]


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "password"
    path.write_text("the old password")

    def interrupted(temporary: str) -> None:
        raise KeyboardInterrupt  # e.g. the provider stopped between create and write

    with pytest.raises(KeyboardInterrupt):
        write_atomically(str(path), b"new", 0o600, before_write=interrupted)
    assert path.read_text() == "the old password"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["password"]


def test_readers_only_ever_see_a_whole_password(tmp_path: Path) -> None:
    path = tmp_path / "password"
    old, new = "o" * 50_000, "n" * 50_000
    path.write_text(old)
    seen: set[str] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(path.read_text())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(200):
            write_atomically(str(path), (new if n % 2 else old).encode(), 0o600)
    finally:
        stop.set()
        reader.join()
    assert seen <= {old, new}


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another owner")
def test_an_existing_files_owner_and_group_are_kept(tmp_path: Path, password: str) -> None:
    path = tmp_path / "password"
    path.write_text("old")
    os.chown(path, NOBODY, NOBODY)
    deliver_to(file(path, 0o640), password)
    info = path.stat()
    assert (info.st_uid, info.st_gid) == (NOBODY, NOBODY)


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda d: d / "missing" / "password", "of deliver_to.path does not exist"),
        (lambda d: (d / "a-file").touch() or d / "a-file" / "password", "is not a folder"),
        (lambda d: (d / "f").touch() or d / "f" / "sub" / "password", "part of .* is not a folder"),
        (lambda d: (d / "sub").mkdir() or d / "sub", "is a folder"),
        (lambda d: (d / "link").symlink_to(d / "target") or d / "link", "is a symbolic link"),
    ],
)
def test_paths_that_cannot_work_are_refused_by_the_preflight(
    tmp_path: Path, make: object, problem: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(PreflightError, match=problem):
        preflight(file(path))


def test_a_folder_the_kernel_refuses_is_refused_even_for_root() -> None:
    """/sys refuses new files to every user: the preflight probes, it does not trust os.access."""
    with pytest.raises(PreflightError) as caught:
        preflight(file("/sys/metal-reset-password"))
    assert caught.value.problem.startswith("no file can be created in /sys (")
    assert caught.value.remedy.startswith("make the folder writable for the user running")


def _preflight_child(uid: int, target_json: str, answer: Connection) -> None:
    """In the child: drop root's rights, run the preflight as `uid`, send back its problem."""
    message = "ok"
    try:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        preflight(FileTarget.model_validate_json(target_json))
    except PreflightError as err:
        message = err.problem
    except BaseException as err:  # report anything else instead of dying silently
        message = f"unexpected {type(err).__name__}"
    answer.send(message)


def _preflight_as(uid: int, target: FileTarget) -> str:
    """Run the real preflight in a child process with the user's rights; return its problem.

    The child is forked by a forkserver, a fresh single-threaded process: this test process may
    run other tests' threads, and a fork of it could inherit a lock one of them held.
    """
    context = multiprocessing.get_context("forkserver")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_preflight_child, args=(uid, target.model_dump_json(), send))
    child.start()
    send.close()
    try:
        answer: str = receive.recv() if receive.poll(60) else "no answer within 60 s"
    finally:
        receive.close()
        child.join(10)
        if child.is_alive():  # hung: end it rather than leave it running
            child.kill()
            child.join()
    return answer


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder every user may reach (pytest's own tmp_path is private to its owner)."""
    folder = Path(tempfile.mkdtemp(prefix="mr-deliver-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_a_folder_without_write_permission_is_refused(open_folder: Path) -> None:
    folder = open_folder / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    target = file(folder / "password")
    if os.geteuid() == 0:
        problem = _preflight_as(NOBODY, target)
    else:
        with pytest.raises(PreflightError) as caught:
            preflight(target)
        problem = caught.value.problem
    assert problem == f"no file can be created in {folder} (Permission denied)"


def test_a_folder_the_user_cannot_reach_is_named_as_such(open_folder: Path) -> None:
    private = open_folder / "private"
    (private / "inner").mkdir(parents=True)
    private.chmod(0o700)
    target = file(private / "inner" / "password")
    if os.geteuid() == 0:
        problem = _preflight_as(NOBODY, target)
    else:
        private.chmod(0o000)
        with pytest.raises(PreflightError) as caught:
            preflight(target)
        private.chmod(0o700)
        problem = caught.value.problem
    assert problem == f"the folder {private}/inner cannot be reached (Permission denied)"


def test_a_write_that_fails_after_the_preflight_is_retried_then_reported(
    tmp_path: Path, password: str
) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    target = file(folder / "password")
    preflight(target)
    folder.rmdir()  # the folder disappears between the preflight and the delivery
    with pytest.raises(DeliveryFailedError) as caught:
        deliver_to(target, password, retry=RetryPolicy(attempts=2, first_wait=0, max_wait=0))
    assert caught.value.attempts == 2
    assert caught.value.cause == f"writing {folder}/password failed (No such file or directory)"
    assert password not in str(caught.value)


@pytest.mark.parametrize("mode", [0o777, 0o1777])
def test_a_folder_every_user_may_write_is_refused(tmp_path: Path, mode: int) -> None:
    """Another user could put the file there first and own it (a sticky bit does not stop that),
    and the owner of an existing file is kept: they would be given every new password."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    with pytest.raises(PreflightError) as caught:
        preflight(file(shared / "password"))
    assert caught.value.problem == (
        f"the folder {shared} is writable by every user, so another user could put a file "
        "there first and be given the password"
    )


def test_a_long_name_in_any_script_gets_a_temporary_name_that_fits(
    tmp_path: Path, password: str
) -> None:
    """A file name may be 255 bytes; the temporary one beside it must fit too."""
    path = tmp_path / ("\u9375" * 80)  # 240 bytes in UTF-8
    deliver_to(file(path), password, retry=RetryPolicy(attempts=1))
    assert path.read_text() == password


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may bind-mount a file")
def test_a_mounted_file_is_refused_by_the_preflight(tmp_path: Path) -> None:
    """Renaming over a mount point fails (EBUSY) after the password changed, every time."""
    source, path = tmp_path / "source", tmp_path / "password"
    source.write_text("old")
    path.write_text("old")
    mounted = subprocess.run(
        ["mount", "--bind", str(source), str(path)], capture_output=True, text=True, check=False
    )
    if mounted.returncode != 0:  # root without CAP_SYS_ADMIN, as in a default container
        pytest.skip(f"mount --bind is not permitted here: {mounted.stderr.strip()}")
    try:
        with pytest.raises(PreflightError, match="is a mounted file"):
            preflight(file(path))
    finally:
        subprocess.run(["umount", str(path)], check=True)


GROUP = 4242


def _write_child(folder: str, answer: Connection) -> None:
    """In the child: become `nobody` with the extra group GROUP, then deliver."""
    message = "ok"
    try:
        os.setgroups([GROUP])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
        write_atomically(os.path.join(folder, "password"), b"new", 0o640)
    except BaseException as err:  # report anything instead of dying silently
        message = f"unexpected {type(err).__name__}"
    answer.send(message)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can make a user with another group")
def test_the_group_is_kept_when_the_owner_cannot_be(open_folder: Path) -> None:
    """A user may give a file to a group they are in, not to another owner: the group of the
    old file is kept alone, so a service reading it through the group still can."""
    folder = open_folder / "group"
    folder.mkdir()
    os.chown(folder, NOBODY, GROUP)
    path = folder / "password"
    path.write_text("old")
    os.chown(path, 0, GROUP)
    path.chmod(0o640)
    context = multiprocessing.get_context("forkserver")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_write_child, args=(str(folder), send))
    child.start()
    send.close()
    try:
        answer = receive.recv() if receive.poll(60) else "no answer within 60 s"
    finally:
        receive.close()
        child.join(10)
        if child.is_alive():
            child.kill()
            child.join()
    assert answer == "ok"
    info = path.stat()
    assert (info.st_uid, info.st_gid) == (NOBODY, GROUP)
    assert path.read_text() == "new"

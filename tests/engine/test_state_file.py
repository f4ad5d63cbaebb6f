"""Where the test engine keeps state by default, and how it writes it: the temp dir is shared
with every user of the machine, and a state's pickled `__provider` is run by a destroy."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from pulumi_metal_reset.testing._state import StackState, default_state_path, save_state


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shared = tmp_path / "tmp"
    shared.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    return shared


def test_the_default_folders_are_this_users_own(temp_dir: Path) -> None:
    path = default_state_path(temp_dir / "program", "dev")
    assert path.parent.parent == temp_dir / f"pulumi-metal-reset-test-state-{os.getuid()}"
    for folder in (path.parent, path.parent.parent):
        info = folder.lstat()
        assert stat.S_ISDIR(info.st_mode)
        assert info.st_uid == os.getuid()
        assert stat.S_IMODE(info.st_mode) == 0o700
    assert default_state_path(temp_dir / "program", "dev") == path  # made once, then accepted


@pytest.mark.parametrize("plant", ["open folder", "link"])
def test_a_default_folder_someone_else_made_is_refused(temp_dir: Path, plant: str) -> None:
    base = temp_dir / f"pulumi-metal-reset-test-state-{os.getuid()}"
    if plant == "open folder":
        base.mkdir()
        base.chmod(0o777)
    else:
        elsewhere = temp_dir / "elsewhere"
        elsewhere.mkdir(mode=0o700)
        base.symlink_to(elsewhere)
    with pytest.raises(ValueError, match="is not a folder of this user's closed to others"):
        default_state_path(temp_dir / "program", "dev")


def test_saving_follows_no_link_planted_beside_the_state(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    path = tmp_path / "state" / "dev.json"
    path.parent.mkdir()
    (path.parent / "dev.json.tmp").symlink_to(victim)  # the name an older release wrote through
    save_state(path, StackState("p", "dev"))
    assert victim.read_text() == "keep me"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["dev.json", "dev.json.tmp"]

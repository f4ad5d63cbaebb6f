"""A real password store for tests: Debian's `pass` over GnuPG, in a throw-away folder.

The fixtures are defined once here and registered for the whole suite by tests/conftest.py
(`pytest_plugins`), so the session's GnuPG key is made once. They need the system tools the
shared `secret_store` marker stands for (tests/conftest.py): mark the tests that use them; the
fixture applies the same verdict (skip with the reason, or fail where CI requires the tools) if
a test forgets.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_system_tools

__all__ = ["GnuPG", "PasswordStore", "UnreliableStore", "file_writer", "gnupg", "password_store"]

# A key with no passphrase (%no-protection), for a store that lives as long as the test session.
KEY_PARAMETERS = """\
%no-protection
Key-Type: EDDSA
Key-Curve: ed25519
Subkey-Type: ECDH
Subkey-Curve: cv25519
Name-Real: pulumi-metal-reset test
Name-Email: test@example.invalid
Expire-Date: 0
%commit
"""


@dataclass(frozen=True)
class GnuPG:
    home: str
    key: str


@pytest.fixture(scope="session")
def gnupg() -> Iterator[GnuPG]:
    """A GnuPG home with one unprotected key, under a short path (the agent's socket is there)."""
    require_system_tools({"secret_store"})  # what the marker does, for a test without it
    home = tempfile.mkdtemp(prefix="mr-gpg-")
    env = {**os.environ, "GNUPGHOME": home}
    try:
        subprocess.run(
            ["gpg", "--batch", "--gen-key"],
            input=KEY_PARAMETERS.encode(),
            env=env,
            check=True,
            capture_output=True,
        )
        listing = subprocess.run(
            ["gpg", "--batch", "--with-colons", "--list-secret-keys"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        key = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
        yield GnuPG(home, key)
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


@dataclass(frozen=True)
class PasswordStore:
    env: dict[str, str]
    """GNUPGHOME and PASSWORD_STORE_DIR: what `deliver.command(..., env=...)` is given."""

    def show(self, name: str) -> str:
        return subprocess.run(
            ["pass", "show", name],
            env={**os.environ, **self.env},
            check=True,
            capture_output=True,
            text=True,
        ).stdout


@pytest.fixture
def password_store(gnupg: GnuPG, tmp_path: Path) -> PasswordStore:
    """An empty store initialised for the session's key."""
    env = {"GNUPGHOME": gnupg.home, "PASSWORD_STORE_DIR": str(tmp_path / "store")}
    subprocess.run(
        ["pass", "init", gnupg.key], env={**os.environ, **env}, check=True, capture_output=True
    )
    return PasswordStore(env)


#: A secret store that can be down or hang, wrapped around a real one. `$1` names a switch file
#: holding "down", "hang" or nothing; the rest of argv is the real store's command, which gets
#: the password on standard input. Down, it prints what it was given (a store echoing its input
#: into an error), so tests can check that the provider scrubs it.
UNRELIABLE_STORE = """\
#!/bin/sh
switch=$1
shift
case "$(cat "$switch" 2>/dev/null)" in
  down) echo "store unavailable, it was given: $(cat)" >&2; exit 3 ;;
  hang) exec sleep 60 ;;
esac
exec "$@"
"""


@dataclass(frozen=True)
class UnreliableStore:
    """`argv(...)` runs the real store's command through the switch; `set(...)` flips it."""

    script: Path
    switch: Path

    @classmethod
    def create(cls, folder: Path) -> UnreliableStore:
        script = folder / "unreliable-store"
        script.write_text(UNRELIABLE_STORE)
        script.chmod(0o755)
        return cls(script, folder / "store-state")

    def argv(self, *command: str) -> list[str]:
        return [str(self.script), str(self.switch), *command]

    def set(self, state: str) -> None:
        """Switch to "down", "hang", or "" (working)."""
        self.switch.write_text(state)


def file_writer(path: Path) -> list[str]:
    """A store command that writes its standard input to `path` (for UnreliableStore.argv)."""
    return ["/bin/sh", "-c", 'cat > "$1"', "sh", str(path)]

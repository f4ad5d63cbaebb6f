"""Fingerprint, delivery description and rotation history: what state may say about a password."""

from __future__ import annotations

import re
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from pulumi_metal_reset import deliver
from pulumi_metal_reset.delivery import fingerprint
from pulumi_metal_reset.delivery.ledger import (
    FINGERPRINT_CONTEXT,
    HISTORY_LIMIT,
    describe,
    entries,
    history_entry,
    mark_delivered,
    record_rotation,
)
from pulumi_metal_reset.delivery.models import parse_target

RESOURCE_ID = "3f1c2a9e-5b7d-4c21-9f0e-8a6b4d2c1e00"


def test_fingerprint_shape_and_keying() -> None:
    mark = fingerprint("hunter2-but-longer", RESOURCE_ID)
    assert re.fullmatch(r"fp-[0-9a-f]{16}", mark)
    assert fingerprint(SecretStr("hunter2-but-longer"), RESOURCE_ID) == mark
    assert fingerprint("hunter2-but-longer", "another-resource") != mark
    assert fingerprint("hunter2-but-longeR", RESOURCE_ID) != mark


@pytest.mark.openssl
@pytest.mark.parametrize("password", ["Pw-planted-7Qx!r9#Lm2$vT8&kZ", "ünïcode pässwörd", "a'b\"c"])
def test_the_documented_openssl_recipe_gives_the_same_fingerprint(password: str) -> None:
    """The recipe in ledger.py's docstring and docs/write-only-delivery.md, run as written."""
    recipe = (
        f'openssl dgst -sha256 -hmac "{FINGERPRINT_CONTEXT}$RESOURCE_ID"'
        " | sed 's/.* /fp-/' | cut -c1-19"
    )
    out = subprocess.run(
        ["sh", "-c", recipe],
        input=password.encode(),
        env={"RESOURCE_ID": RESOURCE_ID, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert out.strip() == fingerprint(password, RESOURCE_ID)


@given(st.text(min_size=1), st.text(min_size=1), st.text(min_size=1))
def test_equal_passwords_in_two_resources_do_not_link(password: str, one: str, two: str) -> None:
    if one != two:
        assert fingerprint(password, one) != fingerprint(password, two)
    assert fingerprint(password, one) == fingerprint(password, one)


def test_descriptions_hold_places_never_environment_values() -> None:
    command = parse_target(
        deliver.command(
            ["pass", "insert", "--multiline", "--force", "metal/ops"],
            env={"PASSWORD_STORE_DIR": "/srv/pass-store", "GNUPGHOME": "/srv/gnupg"},
        )
    )
    text = describe(command)
    assert text == (
        "command: pass insert --multiline --force metal/ops (env: GNUPGHOME, PASSWORD_STORE_DIR)"
    )
    assert "/srv/" not in text
    assert describe(parse_target(deliver.command(["sh", "-c", "cat > 'a b'"]))) == (
        "command: sh -c 'cat > '\"'\"'a b'\"'\"''"
    )
    assert describe(parse_target(deliver.file("/etc/metal/password"))) == (
        "file: /etc/metal/password (0600)"
    )


def _entry(n: int) -> dict[str, object]:
    return history_entry(
        at=f"2025-01-{n:02d}T00:00:00Z",
        reason="rotation_triggers changed",
        slot=None,
        fingerprint=f"fp-{n:016x}",
        delivered_to=None,
    )


def test_history_keeps_the_last_twenty_oldest_first() -> None:
    history: list[dict[str, object]] = []
    for n in range(1, 26):
        history = record_rotation(history, _entry(n))
    assert len(history) == HISTORY_LIMIT == 20
    assert history[0]["at"] == "2025-01-06T00:00:00Z"
    assert history[-1]["at"] == "2025-01-25T00:00:00Z"
    assert set(history[-1]) == {"at", "reason", "fingerprint"}  # no slot, not delivered
    full = history_entry(at="a", reason="r", slot="s", fingerprint="f", delivered_to="d")
    assert set(full) == {"at", "reason", "slot", "fingerprint", "delivered_to"}


def test_history_tolerates_state_written_before_it_existed() -> None:
    assert entries(None) == []
    assert entries("junk") == []
    assert entries([_entry(1), "junk", 3]) == [_entry(1)]
    assert record_rotation(None, _entry(1)) == [_entry(1)]


def test_history_builders_are_pure() -> None:
    history = [_entry(1)]
    record_rotation(history, _entry(2))
    mark_delivered(history, "fp-0000000000000001", "file: /p (0600)")
    assert history == [_entry(1)]


def test_a_late_delivery_marks_only_its_own_rotation() -> None:
    history = [_entry(1), _entry(2)]
    marked = mark_delivered(history, "fp-0000000000000002", "file: /p (0600)")
    assert marked[-1]["delivered_to"] == "file: /p (0600)"
    assert "delivered_to" not in marked[0]
    assert mark_delivered(history, "fp-0000000000000001", "file: /p (0600)") == history

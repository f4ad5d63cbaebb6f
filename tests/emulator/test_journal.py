"""The journal, and that no token or password shows in it, in the control API or in logs."""

from __future__ import annotations

import json
import logging
import time

import pytest

from pulumi_metal_reset.emulator import DEV_TOKEN, DEV_USER, Emulator, JournalEntry
from pulumi_metal_reset.emulator.accounts import Accounts, parse_token_spec
from pulumi_metal_reset.emulator.journal import token_id
from pulumi_metal_reset.emulator.metal_api import ApiCall
from pulumi_metal_reset.emulator.wire import json_response

from .support import Client, new_password

SECRET_TOKEN = "tok-0123456789abcdef-secret"


def test_entries_record_the_request_and_its_answer(
    metal_emulator: Emulator, client: Client
) -> None:
    before = time.time()
    client.post("email=a%2Bb%40x.io")
    client.delete(token="bogus")
    [post, bad] = metal_emulator.journal
    assert post == JournalEntry(
        seq=1,
        time=post.time,
        method="POST",
        path="/metal/v1/reset-password",
        query={"email": ["a+b@x.io"]},
        status=201,
        outcome="ok",
        applied=True,
        user=DEV_USER,
        token_id=post.token_id,
        elapsed_ms=post.elapsed_ms,
    )
    assert before <= post.time <= time.time()
    assert post.elapsed_ms >= 0
    assert (bad.seq, bad.status, bad.user, bad.applied) == (2, 401, None, False)
    assert bad.token_id is not None
    assert bad.token_id != post.token_id
    assert len(bad.token_id) == 12


def test_the_journal_is_a_snapshot(metal_emulator: Emulator, client: Client) -> None:
    held = metal_emulator.journal
    client.delete()
    assert held == []
    assert len(metal_emulator.journal) == 1


def test_reset_journal_in_python(metal_emulator: Emulator, client: Client) -> None:
    client.delete()
    client.delete()
    assert metal_emulator.reset_journal() == 2
    assert metal_emulator.journal == []
    client.delete()
    assert metal_emulator.journal[0].seq == 3  # numbering continues


def test_journal_over_the_control_api(metal_emulator: Emulator, client: Client) -> None:
    client.delete()
    reply = client.control("GET", "journal")
    assert reply.status == 200
    assert reply.content_type == "application/json"
    [entry] = reply.json()["entries"]
    assert entry == metal_emulator.journal[0].to_json()
    assert client.control("DELETE", "journal").json() == {"cleared": 1}
    assert client.control("GET", "journal").json() == {"entries": []}
    assert metal_emulator.journal == []


def test_control_requests_are_not_journaled(metal_emulator: Emulator, client: Client) -> None:
    client.control("GET", "faults")
    client.control("GET", "journal")
    assert metal_emulator.journal == []


def test_the_journal_keeps_the_newest_entries_up_to_its_limit() -> None:
    with Emulator(journal_limit=3) as emu, Client(emu.url) as client:
        for _ in range(5):
            client.delete()
        assert [entry.seq for entry in emu.journal] == [3, 4, 5]


def test_a_token_given_without_a_user_is_named_after_its_hash() -> None:
    token, user = parse_token_spec(SECRET_TOKEN)
    assert token == SECRET_TOKEN
    assert user == "user-" + token_id(SECRET_TOKEN)
    assert SECRET_TOKEN not in user
    assert parse_token_spec("t=alice") == ("t", "alice")
    assert parse_token_spec("t=a=b") == ("t", "a=b")
    for bad in ("", "=alice", "t="):
        with pytest.raises(ValueError, match="must not be empty"):
            parse_token_spec(bad)


def _exercise_every_path(emu: Emulator, client: Client) -> set[str]:
    """Drive every kind of answer; return every password the emulator ever handed out."""
    passwords = {new_password(client.delete(SECRET_TOKEN))}
    client.post("email=a%40x.io", token=SECRET_TOKEN)
    client.delete(token="wrong-" + SECRET_TOKEN)
    for outcome in ("truncated", "not-json", "missing-field", "429", "drop"):
        emu.faults.set(script=[outcome])
        try:
            client.delete(SECRET_TOKEN)
        except ConnectionError:
            client.close()
        current = emu.password_of("alice")
        assert current is not None
        passwords.add(current)
    # A client that misplaces the token or a password in the URL must not leak it through us.
    leaked_password = next(iter(passwords))
    client.request("GET", f"/metal/v1/{SECRET_TOKEN}?token={SECRET_TOKEN}&p={leaked_password}")
    client.request("GET", f"/metal/v1/reset-password?{emu.password_of('alice')}=1")
    return passwords


def test_no_secret_in_journal_control_api_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pulumi_metal_reset.emulator")
    with Emulator({SECRET_TOKEN: "alice"}) as emu, Client(emu.url) as client:
        passwords = _exercise_every_path(emu, client)
        current = emu.password_of("alice")
        assert current is not None
        passwords.add(current)
        exposed = [
            json.dumps([entry.to_json() for entry in emu.journal]),
            repr(emu.journal),
            repr(emu),
            repr(emu.faults),
            client.control("GET", "journal").body.decode(),
            client.control("GET", "faults").body.decode(),
            *(record.getMessage() for record in caplog.records),
        ]
        paths = [entry.path for entry in emu.journal]
    assert "/metal/v1/<redacted>" in paths
    assert len(passwords) == 5  # the 429 changed nothing
    for text in exposed:
        assert SECRET_TOKEN not in text
        for password in passwords:
            assert password not in text


def test_one_log_line_per_api_request_quiet_by_default(
    metal_emulator: Emulator, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pulumi_metal_reset.emulator")
    client.delete()
    client.post("email=a%40x.io")
    client.delete(token=None)
    client.control("GET", "journal")
    lines = [r.getMessage() for r in caplog.records if r.name == "pulumi_metal_reset.emulator"]
    assert len(lines) == 3
    assert lines[0].startswith("DELETE /metal/v1/reset-password -> 201 outcome=ok user=dev")
    assert all(record.levelno == logging.INFO for record in caplog.records)
    assert DEV_TOKEN not in "".join(lines)


def test_redact_finds_old_passwords_inside_longer_text() -> None:
    accounts = Accounts({SECRET_TOKEN: "alice"})
    old, new = accounts.rotate("alice"), accounts.rotate("alice")
    text = f"/x/{SECRET_TOKEN}/ab{old}cd{new}?{new}-{new[:-1]}"
    assert accounts.redact(text) == (
        f"/x/<redacted>/ab<redacted>cd<redacted>?<redacted>-{new[:-1]}"
    )
    assert old not in repr(accounts)


def test_internal_reprs_hide_bodies_and_tokens() -> None:
    password = "p" * 32
    assert password not in repr(json_response(201, {"new_password": password}))
    assert SECRET_TOKEN not in repr(ApiCall(0.0, "DELETE", "/", "", SECRET_TOKEN))

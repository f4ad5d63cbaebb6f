"""Issue 8 §6: two resources on one API token, within one run and across runs.

A rotation resets the password of the token's user, so a second resource rotating with the same
token would make the first one's recorded password stale. Within one provider process (one
run) the second fails before any request; across runs, `credential_id` lets an audit find them.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pulumi_metal_reset.credentials import credential_id
from pulumi_metal_reset.emulator import DEV_TOKEN, DEV_USER, Emulator
from pulumi_metal_reset.errors import (
    AmbiguousServerError,
    RateLimitedError,
    RotationAfterCreateError,
    SharedCredentialError,
)
from pulumi_metal_reset.operations import CREATE_TOKEN
from pulumi_metal_reset.provider import PasswordResetTokenProvider

from .conftest import DirectStack, make_provider


def methods(emulator: Emulator) -> list[str]:
    return [entry.method for entry in emulator.journal]


def test_a_second_rotation_with_the_same_token_fails_before_its_delete(
    provider: PasswordResetTokenProvider, emulator: Emulator
) -> None:
    first, second = DirectStack(provider), DirectStack(provider)
    first.up({"email": "first@example.com", "rotation_triggers": {"t": "1"}})
    second.up({"email": "second@example.com", "rotation_triggers": {"t": "1"}})
    first.up({"email": "first@example.com", "rotation_triggers": {"t": "2"}})
    password = emulator.password_of(DEV_USER)
    emulator.reset_journal()
    before = dict(second.outputs)
    with pytest.raises(SharedCredentialError) as caught:
        second.up({"email": "second@example.com", "rotation_triggers": {"t": "2"}})
    assert methods(emulator) == []  # not even the DELETE
    assert emulator.password_of(DEV_USER) == password == first.outputs["new_password"]
    assert second.outputs == before
    message = str(caught.value)
    assert "first@example.com" in message
    assert credential_id(DEV_TOKEN) in message
    assert DEV_TOKEN not in message
    assert message.count(". ") == 0


def test_rotate_on_create_with_a_used_token_mails_nothing(
    provider: PasswordResetTokenProvider, emulator: Emulator
) -> None:
    DirectStack(provider).up({"email": "first@example.com", "rotate_on_create": True})
    emulator.reset_journal()
    with pytest.raises(SharedCredentialError):
        DirectStack(provider).up({"email": "second@example.com", "rotate_on_create": True})
    assert methods(emulator) == []


def test_resources_on_different_users_each_rotate(
    metal_emulator_factory: Any,
) -> None:
    emulator = metal_emulator_factory({"tok-a": "alice", "tok-b": "bob"})
    provider = make_provider({"equinix:endpoint": emulator.url})
    alice, bob = DirectStack(provider), DirectStack(provider)
    alice.up({"email": "a@example.com", "auth_token": "tok-a", "rotate_on_create": True})
    bob.up({"email": "b@example.com", "auth_token": "tok-b", "rotate_on_create": True})
    assert alice.outputs["new_password"] == emulator.password_of("alice")
    assert bob.outputs["new_password"] == emulator.password_of("bob")
    assert alice.outputs["credential_id"] == credential_id("tok-a")
    assert bob.outputs["credential_id"] == credential_id("tok-b")
    assert alice.outputs["credential_id"] != bob.outputs["credential_id"]


def test_a_rotation_that_certainly_failed_frees_the_user(
    provider: PasswordResetTokenProvider, emulator: Emulator
) -> None:
    """429 until the retries are spent reset nothing: another resource on that token may still
    rotate in this run."""
    first = DirectStack(provider)
    first.up({"email": "first@example.com", "rotation_triggers": {"t": "1"}})
    emulator.faults.set(script=("429",) * 11)  # the first try and 10 retries
    with pytest.raises(RateLimitedError):
        first.up({"email": "first@example.com", "rotation_triggers": {"t": "2"}})
    second = DirectStack(provider)
    second.up({"email": "second@example.com", "rotate_on_create": True})
    assert second.outputs["new_password"] == emulator.password_of(DEV_USER)


def test_a_mail_that_may_have_been_sent_frees_the_user(
    provider: PasswordResetTokenProvider, emulator: Emulator
) -> None:
    """An ambiguous POST (a 500) before a rotation sent no DELETE: the password did not change,
    so another resource on that token may still rotate in this run."""
    first = DirectStack(provider)
    first.up({"email": "first@example.com", "rotation_triggers": {"t": "1"}})
    emulator.faults.set(script=("500",))
    with pytest.raises(AmbiguousServerError) as caught:
        first.up({"email": "moved@example.com", "rotation_triggers": {"t": "2"}})
    assert caught.value.operation is CREATE_TOKEN
    assert "DELETE" not in methods(emulator)
    second = DirectStack(provider)
    second.up({"email": "second@example.com", "rotate_on_create": True})
    assert second.outputs["new_password"] == emulator.password_of(DEV_USER)


def test_a_reset_accepted_without_a_readable_password_keeps_the_user(
    provider: PasswordResetTokenProvider, emulator: Emulator
) -> None:
    """The API reset the password (201) but its body was unreadable: the password changed, so
    the failure says it may have taken effect and no other resource may reset it again."""
    stack = DirectStack(provider)
    emulator.faults.set(script=("ok", "not-json"))  # the POST, then the DELETE
    with pytest.raises(RotationAfterCreateError) as caught:
        stack.up({"email": "first@example.com", "rotate_on_create": True})
    assert caught.value.ambiguous
    assert "so it may have taken effect" in str(caught.value)
    assert "did not change" not in str(caught.value)
    assert methods(emulator) == ["POST", "DELETE"]
    emulator.reset_journal()
    with pytest.raises(SharedCredentialError):
        DirectStack(provider).up({"email": "second@example.com", "rotate_on_create": True})
    assert methods(emulator) == []


def test_four_threads_racing_on_one_token_rotate_it_once(
    provider: PasswordResetTokenProvider, emulator: Emulator
) -> None:
    """The server calls one provider from four threads: exactly one of them may rotate."""
    stacks = [DirectStack(provider) for _ in range(4)]
    for n, stack in enumerate(stacks):
        stack.up({"email": f"u{n}@example.com", "rotation_triggers": {"t": "1"}})
    emulator.reset_journal()
    start = threading.Barrier(4)

    def rotate(n: int) -> str:
        start.wait()
        try:
            stacks[n].up({"email": f"u{n}@example.com", "rotation_triggers": {"t": "2"}})
        except SharedCredentialError:
            return "refused"
        return "rotated"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(rotate, range(4)))
    assert sorted(outcomes) == ["refused", "refused", "refused", "rotated"]
    assert methods(emulator) == ["DELETE"]


def test_credential_id_is_recorded_and_a_token_change_shows_as_an_update(
    provider: PasswordResetTokenProvider, emulator: Emulator
) -> None:
    stack = DirectStack(provider)
    stack.up({"email": "ops@example.com"})
    assert (
        stack.inputs["credential_id"] == stack.outputs["credential_id"] == credential_id(DEV_TOKEN)
    )
    emulator.reset_journal()
    assert stack.up({"email": "ops@example.com", "auth_token": "tok-other"}) == "update"
    assert stack.outputs["credential_id"] == credential_id("tok-other")
    assert methods(emulator) == []

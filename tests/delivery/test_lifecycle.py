"""The provider's calls end to end, with a real `pass` store and a simulated DELETE.

Each run ends in one of the three guarantees, says which in one sentence, and the next run
converges. `FakeApi` stands for the HTTP client: only its `reset` is passed in, as the provider
will pass `lambda: client.reset_password().new_password`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from pulumi_metal_reset import deliver
from pulumi_metal_reset.delivery import fingerprint
from pulumi_metal_reset.delivery.errors import DeliveryError
from pulumi_metal_reset.delivery.lifecycle import check_sink, redeliver, rotate
from pulumi_metal_reset.delivery.outcome import Outcome, Settlement, redelivery_reason
from pulumi_metal_reset.delivery.sinks import RetryPolicy
from pulumi_metal_reset.errors import AmbiguousNetworkError
from pulumi_metal_reset.operations import RESET_PASSWORD
from tests.delivery.store import GnuPG, PasswordStore

PASS_INSERT = ["pass", "insert", "--multiline", "--force", "metal/ops"]
RID = "0c0ffee0-0000-4000-8000-000000000001"
FAST = RetryPolicy(attempts=3, first_wait=0, max_wait=0)
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@dataclass
class FakeApi:
    """The API's password; `reset` is the DELETE."""

    passwords: list[str]
    calls: int = 0
    current: str = "the password before any rotation"
    failure: Exception | None = None

    def reset(self) -> SecretStr:
        self.calls += 1
        if self.failure is not None:
            raise self.failure
        self.current = self.passwords.pop(0)
        return SecretStr(self.current)


@dataclass
class Stack:
    """What the engine keeps between runs: the outputs (which echo the delivery inputs)."""

    outputs: dict[str, Any] = field(default_factory=dict)

    def record(self, settled: Settlement, news: dict[str, Any]) -> None:
        self.outputs = {**self.outputs, **settled.outputs, **news}


def _rotate(api: FakeApi, news: dict[str, Any], stack: Stack, **options: Any) -> Settlement:
    return rotate(
        reset=api.reset,
        target=news["deliver_to"],
        resource_id=RID,
        reason="rotation_triggers changed",
        slot=None,
        store_password=news["store_password"],
        history=stack.outputs.get("rotation_history"),
        retry=FAST,
        **options,
    )


def _redeliver(stack: Stack, news: dict[str, Any], **options: Any) -> Settlement:
    return redeliver(
        password=stack.outputs["new_password"],
        target=news["deliver_to"],
        resource_id=RID,
        store_password=news["store_password"],
        history=stack.outputs.get("rotation_history"),
        retry=FAST,
        **options,
    )


def _one_sentence(text: str) -> None:
    assert text[:1].isupper()
    assert text.endswith(".")
    assert "\n" not in text


@pytest.mark.secret_store
def test_a_rotation_goes_to_pass_and_not_into_state(
    password_store: PasswordStore, password: str
) -> None:
    api = FakeApi([password])
    news = {
        "deliver_to": deliver.command(PASS_INSERT, env=password_store.env),
        "store_password": False,
    }
    settled = _rotate(api, news, Stack())
    assert settled.outcome is Outcome.SINK_HOLDS
    assert settled.warning is None
    assert password_store.show("metal/ops") == api.current == password
    assert settled.outputs["new_password"] is None
    assert settled.outputs["password_fingerprint"] == fingerprint(password, RID)
    assert settled.outputs["delivery"] == (
        "command: pass insert --multiline --force metal/ops (env: GNUPGHOME, PASSWORD_STORE_DIR)"
    )
    assert TIMESTAMP.fullmatch(settled.outputs["delivered_at"])
    assert settled.rotated_at is not None
    assert TIMESTAMP.fullmatch(settled.rotated_at)
    [entry] = settled.outputs["rotation_history"]
    assert entry["delivered_to"] == settled.outputs["delivery"]
    assert password not in json.dumps(settled.outputs)


def test_a_missing_command_fails_before_the_delete(password: str) -> None:
    api = FakeApi([password])
    news = {
        "deliver_to": deliver.command(["metal-reset-no-such-store"], env={"PATH": "/usr/bin:/bin"}),
        "store_password": False,
    }
    with pytest.raises(DeliveryError) as caught:
        _rotate(api, news, Stack())
    assert api.calls == 0
    assert caught.value.outcome is Outcome.API_UNCHANGED
    message = str(caught.value)
    _one_sentence(message)
    assert message.startswith(
        "The password was not rotated and the API password did not change: the delivery command "
        "metal-reset-no-such-store was not found"
    )
    assert message.endswith("then run `pulumi up` again.")
    assert caught.value.__context__ is None


def test_an_unwritable_file_fails_before_the_delete(password: str) -> None:
    api = FakeApi([password])
    target = deliver.file("/sys/metal-reset-password")
    news = {"deliver_to": target, "store_password": False}
    with pytest.raises(DeliveryError, match="the API password did not change: no file can be"):
        check_sink(target)
    with pytest.raises(DeliveryError) as caught:
        _rotate(api, news, Stack())
    assert caught.value.outcome is Outcome.API_UNCHANGED
    assert api.calls == 0


@pytest.mark.secret_store
def test_a_delivery_failing_after_the_delete_is_kept_in_state_then_repaired(
    gnupg: GnuPG, tmp_path: Path, password: str
) -> None:
    """`pass` refuses a store nobody initialised: a real failure that preflight cannot see."""
    env = {"GNUPGHOME": gnupg.home, "PASSWORD_STORE_DIR": str(tmp_path / "store")}
    api = FakeApi([password])
    news = {"deliver_to": deliver.command(PASS_INSERT, env=env), "store_password": False}
    stack = Stack({"rotation_history": []})
    waits: list[float] = []

    # Run 1: the DELETE succeeds, every delivery attempt fails.
    settled = _rotate(api, news, stack, sleep=waits.append)
    assert api.calls == 1
    assert len(waits) == 2  # three attempts
    assert settled.outcome is Outcome.STATE_HOLDS
    assert settled.outputs["new_password"] == api.current == password  # not lost
    assert settled.outputs["delivery"] is None
    assert settled.outputs["delivery_pending"]
    assert settled.warning is not None
    _one_sentence(settled.warning)
    assert settled.warning.startswith(
        "The password was rotated but delivering it to command: pass insert --multiline --force "
        "metal/ops (env: GNUPGHOME, PASSWORD_STORE_DIR) failed 3 times (pass exited with status 1"
    )
    assert "kept in this stack's state as the secret output new_password" in settled.warning
    stack.record(settled, news)

    # Run 2: the store is still broken. `diff` sees the pending delivery; `update` raises, and
    # the engine keeps the old state, which still holds the password.
    assert redelivery_reason(stack.outputs, news) == "the last delivery failed"
    before = dict(stack.outputs)
    with pytest.raises(DeliveryError) as caught:
        _redeliver(stack, news)
    assert caught.value.outcome is Outcome.STATE_HOLDS
    _one_sentence(str(caught.value))
    assert "it stays there as the secret output new_password" in str(caught.value)
    assert stack.outputs == before
    assert api.calls == 1

    # Run 3: the user fixes the store; the kept password is delivered and leaves the state.
    subprocess.run(
        ["pass", "init", gnupg.key], env={**os.environ, **env}, check=True, capture_output=True
    )
    repaired = _redeliver(stack, news)
    assert repaired.outcome is Outcome.SINK_HOLDS
    assert PasswordStore(env).show("metal/ops") == api.current
    assert repaired.outputs["new_password"] is None
    assert repaired.outputs["delivery_pending"] is None
    assert repaired.outputs["rotation_history"][-1]["delivered_to"] == repaired.outputs["delivery"]
    stack.record(repaired, news)

    # Run 4: converged; nothing left to do and no further DELETE.
    assert redelivery_reason(stack.outputs, news) is None
    assert api.calls == 1


def test_a_failed_delete_propagates_untouched_and_nothing_is_delivered(
    tmp_path: Path, password: str
) -> None:
    ambiguous = AmbiguousNetworkError(
        "The request may have reset the password.", operation=RESET_PASSWORD
    )
    api = FakeApi([password], failure=ambiguous)
    news = {"deliver_to": deliver.file(str(tmp_path / "password")), "store_password": False}
    with pytest.raises(AmbiguousNetworkError) as caught:
        _rotate(api, news, Stack())
    assert caught.value is ambiguous
    assert not (tmp_path / "password").exists()


def test_an_unexpected_error_after_the_delete_still_keeps_the_password(
    tmp_path: Path, password: str
) -> None:
    api = FakeApi([password])
    news = {"deliver_to": deliver.command(["cat"]), "store_password": False}
    broken: Any = {"PATH": "/usr/bin:/bin", "BROKEN": 1}  # not a string: Popen raises TypeError
    settled = _rotate(api, news, Stack(), environ=broken)
    assert settled.outcome is Outcome.STATE_HOLDS
    assert settled.outputs["new_password"] == password
    assert settled.warning is not None
    assert "an unexpected TypeError" in settled.warning


def test_a_file_rotation_without_deliver_to_keeps_the_password_in_state(password: str) -> None:
    api = FakeApi([password])
    settled = _rotate(api, {"deliver_to": None, "store_password": True}, Stack())
    assert settled.outcome is Outcome.STATE_HOLDS
    assert settled.warning is None
    assert settled.outputs["new_password"] == password
    assert settled.outputs["rotation_history"][-1].get("delivered_to") is None


def test_a_file_rotation_delivers_and_a_store_password_switch_moves_it_later(
    tmp_path: Path, password: str
) -> None:
    api = FakeApi([password])
    path = tmp_path / "password"
    news = {"deliver_to": deliver.file(str(path)), "store_password": True}
    stack = Stack()
    settled = _rotate(api, news, stack)
    assert settled.outputs["new_password"] == password  # store_password=True keeps it too
    assert path.read_text() == password
    stack.record(settled, news)
    assert redelivery_reason(stack.outputs, news) is None
    # The user turns store_password off: the next up writes the sink again and drops the copy.
    off = {**news, "store_password": False}
    assert redelivery_reason(stack.outputs, off) is not None
    path.unlink()
    moved = _redeliver(stack, off)
    assert moved.outputs["new_password"] is None
    assert path.read_text() == password


@pytest.mark.secret_store
def test_the_password_appears_in_no_message_repr_or_log_record(
    gnupg: GnuPG,
    tmp_path: Path,
    password: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Every failure path once, with logging at DEBUG everywhere; then scan all that was said."""
    caplog.set_level(logging.DEBUG)
    said: list[str] = []
    env = {"GNUPGHOME": gnupg.home, "PASSWORD_STORE_DIR": str(tmp_path / "uninitialised")}
    leaky = tmp_path / "leaky"
    leaky.write_text("#!/bin/sh\ncat >&2\necho ' again:' >&2\ncat /dev/stdin >&2\nexit 9\n")
    leaky.chmod(0o755)
    cases = [
        {"deliver_to": deliver.command(PASS_INSERT, env=env), "store_password": False},
        {"deliver_to": deliver.command([str(leaky)]), "store_password": False},
        {"deliver_to": deliver.command(["sleep", "30"], timeout=0.5), "store_password": False},
        {"deliver_to": deliver.file(str(tmp_path / "gone" / "password")), "store_password": False},
    ]
    for news in cases:
        stack = Stack()
        try:
            settled = _rotate(FakeApi([password]), news, stack)
        except DeliveryError as err:  # the file case fails its preflight
            said += [str(err), repr(err)]
            continue
        said += [repr(settled), str(settled.warning)]
        said.append(json.dumps({k: v for k, v in settled.outputs.items() if k != "new_password"}))
        stack.record(settled, news)
        try:
            _redeliver(stack, news)
        except DeliveryError as err:
            said += [str(err), repr(err), repr(err.args)]
    said += [record.getMessage() for record in caplog.records]
    said += list(capfd.readouterr())
    assert len(said) > 10
    for text in said:
        assert password not in text

"""Write-only delivery wired into the provider: check, diff, create and update, called directly
against the emulator (see conftest.DirectStack), with file sinks and a store that can be down.

Every failure ends in one sentence saying which outcome holds: the API password did not change,
the sink holds the new password, or the state holds it as a secret. The real `pass` store and
the real engine are in tests/examples/test_write_only_delivery.py.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from pulumi_metal_reset import deliver
from pulumi_metal_reset.delivery import fingerprint
from pulumi_metal_reset.delivery import sinks as sinks_module
from pulumi_metal_reset.delivery.errors import DeliveryError
from pulumi_metal_reset.delivery.outcome import Outcome
from pulumi_metal_reset.emulator import DEV_TOKEN, DEV_USER, Emulator
from pulumi_metal_reset.errors import (
    AmbiguousNetworkError,
    RotationAfterCreateError,
    SharedCredentialError,
)
from pulumi_metal_reset.provider import PasswordResetTokenProvider
from pulumi_metal_reset.unknowns import UNKNOWN_SENTINEL
from tests.delivery.store import UnreliableStore, file_writer
from tests.fresh_python import fresh_python

from .conftest import DirectStack, make_provider

EMAIL = "ops@example.com"
MISSING = "metal-reset-no-such-store"
PROVIDER_CONFIG = {"equinix:authToken": DEV_TOKEN, "equinix:maxRetryWaitSeconds": "0.05"}


def calls(emulator: Emulator) -> list[str]:
    methods = [entry.method for entry in emulator.journal]
    emulator.reset_journal()
    return methods


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three attempts as in production, without the 1 s and 2 s waits between them."""
    fast = sinks_module.RetryPolicy(attempts=3, first_wait=0, max_wait=0)
    monkeypatch.setattr(sinks_module, "RetryPolicy", lambda: fast)


@pytest.fixture
def store(tmp_path: Path) -> UnreliableStore:
    return UnreliableStore.create(tmp_path)


def _through(store: UnreliableStore, target: Path, **options: Any) -> dict[str, Any]:
    return deliver.command(store.argv(*file_writer(target)), **options)


# --- check ------------------------------------------------------------------------------------


def test_check_validates_and_normalises_the_delivery_inputs(deployment: DirectStack) -> None:
    result = deployment.provider.check(
        {}, {"email": EMAIL, "deliver_to": {"kind": "file", "path": "/p", "mode": 384.0}}
    )
    assert result.failures == []
    assert result.inputs["deliver_to"] == {"kind": "file", "path": "/p", "mode": "0600"}
    assert result.inputs["store_password"] is True


def test_check_failures_never_print_deliver_to(deployment: DirectStack) -> None:
    target = {"kind": "command", "argv": ["vault"], "env": {"VAULT_TOKEN": "s3cret-PLANTED"}}
    failures = deployment.provider.check(
        {}, {"email": EMAIL, "deliver_to": target, "store_password": "no"}
    ).failures
    assert [(f.property, f.reason.split(":")[0]) for f in failures] == [
        ("", "deliver_to.env"),
        ("store_password", "must be true or false"),
    ]
    assert all("s3cret-PLANTED" not in f.reason for f in failures)


def test_store_password_false_needs_a_sink(deployment: DirectStack) -> None:
    failures = deployment.provider.check({}, {"email": EMAIL, "store_password": False}).failures
    assert [f.property for f in failures] == ["store_password"]
    assert "kept nowhere" in failures[0].reason


def test_a_first_call_without_delivery_loads_no_delivery_code() -> None:
    """The provider process's first call stays cheap for the resources that do not deliver (a
    destroy's first call is a delete)."""
    code = (
        "import sys\n"
        "from pulumi_metal_reset.provider import PasswordResetTokenProvider\n"
        "p = PasswordResetTokenProvider()\n"
        "p.check({}, {'email': 'ops@example.com'})\n"
        "p.delete('id', {'email': 'ops@example.com', 'delivery_pending': None})\n"
        "print(sorted(m for m in sys.modules if 'delivery' in m or m == 'tenacity'))\n"
        "p.check({}, {'email': 'ops@example.com', 'deliver_to': {'kind': 'file', 'path': '/p'}})\n"
        "print('pulumi_metal_reset.delivery.models' in sys.modules)\n"
    )
    out = fresh_python(code).split("\n")
    assert out[:2] == ["[]", "True"]


# --- rotation and delivery --------------------------------------------------------------------


def test_rotate_on_create_delivers_and_keeps_nothing(
    deployment: DirectStack, emulator: Emulator, tmp_path: Path
) -> None:
    target = tmp_path / "password"
    made = deliver.file(str(target))
    deployment.up(
        {"email": EMAIL, "rotate_on_create": True, "deliver_to": made, "store_password": False}
    )
    password = emulator.password_of(DEV_USER)
    assert password is not None
    assert calls(emulator) == ["POST", "DELETE"]
    assert target.read_text() == password
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    outs = deployment.outputs
    assert "new_password" not in outs
    assert (outs["deliver_to"], outs["store_password"]) == (made, False)
    assert outs["password_fingerprint"] == fingerprint(password, str(deployment.id))
    assert outs["delivery"] == f"file: {target} (0600)"
    assert outs["delivered_at"] is not None
    assert "delivery_pending" not in outs
    assert outs["rotation_history"] == [
        {  # no slot: this resource has no schedule
            "at": outs["rotated_at"],
            "reason": "rotate_on_create",
            "fingerprint": outs["password_fingerprint"],
            "delivered_to": outs["delivery"],
        }
    ]
    assert password not in repr(outs | {"new_password": None})
    # Converged: the next run changes nothing.
    assert deployment.up(dict(deployment.inputs)) == "same"


def test_every_rotation_records_a_fingerprint_and_history_without_a_sink(
    deployment: DirectStack, emulator: Emulator
) -> None:
    news = {"email": EMAIL, "rotate_every": "1d", "rotation_triggers": {"t": "1"}}
    deployment.up(news)
    for ticket in "234":
        deployment.up(news | {"rotation_triggers": {"t": ticket}})
    outs = deployment.outputs
    password = emulator.password_of(DEV_USER)
    assert password is not None
    assert outs["new_password"] == password
    assert "delivery" not in outs
    assert outs["rotation_history"][-1]["fingerprint"] == fingerprint(password, str(deployment.id))
    assert [e["reason"] for e in outs["rotation_history"]] == ["rotation_triggers changed"] * 3
    assert {e["slot"] for e in outs["rotation_history"]} == {outs["rotation_slot"]}
    assert not any("delivered_to" in e for e in outs["rotation_history"])


def test_a_missing_command_is_refused_before_the_delete(
    deployment: DirectStack, emulator: Emulator, tmp_path: Path, provider: Any
) -> None:
    deployment.up({"email": EMAIL, "rotation_triggers": {"t": "1"}})
    calls(emulator)
    before = dict(deployment.outputs)
    news = {
        "email": EMAIL,
        "rotation_triggers": {"t": "2"},
        "deliver_to": deliver.command([MISSING, "insert"]),
    }
    with pytest.raises(DeliveryError) as caught:
        deployment.up(news)
    assert calls(emulator) == []
    assert deployment.outputs == before
    message = str(caught.value)
    assert message.startswith("The password was not rotated and the API password did not change: ")
    assert f"the delivery command {MISSING} was not found on the PATH" in message
    assert message.endswith("then run `pulumi up` again.")
    assert message.count(". ") == 0
    assert caught.value.outcome is Outcome.API_UNCHANGED
    # One frame and one sentence: the error boundary dropped the rest.
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    # The claim on the API user was released: the rotation certainly did not happen.
    other = DirectStack(provider)
    other.up({"email": "other@example.com", "rotate_on_create": True})
    assert calls(emulator) == ["POST", "DELETE"]


def test_a_broken_sink_stops_rotate_on_create_before_the_post(
    deployment: DirectStack, emulator: Emulator
) -> None:
    news = {"email": EMAIL, "rotate_on_create": True, "deliver_to": deliver.file("/sys/pw")}
    with pytest.raises(DeliveryError, match=r"^The password was not rotated .* /sys \("):
        deployment.up(news)
    assert calls(emulator) == []  # no token mailed either
    assert deployment.id is None


def test_a_broken_sink_stops_an_email_change_before_the_post(
    deployment: DirectStack, emulator: Emulator
) -> None:
    deployment.up({"email": EMAIL, "rotation_triggers": {"t": "1"}})
    calls(emulator)
    with pytest.raises(DeliveryError, match="API password did not change"):
        deployment.up(
            {
                "email": "new@example.com",
                "rotation_triggers": {"t": "2"},
                "deliver_to": deliver.file("/sys/pw"),
            }
        )
    assert calls(emulator) == []
    assert deployment.outputs["email"] == EMAIL


def test_an_email_change_mails_then_rotates_then_delivers(
    deployment: DirectStack, emulator: Emulator, tmp_path: Path
) -> None:
    target = tmp_path / "password"
    made = deliver.file(str(target))
    deployment.up({"email": EMAIL, "rotation_triggers": {"t": "1"}, "deliver_to": made})
    calls(emulator)
    deployment.up({"email": "new@example.com", "rotation_triggers": {"t": "2"}, "deliver_to": made})
    assert calls(emulator) == ["POST", "DELETE"]
    assert target.read_text() == emulator.password_of(DEV_USER)
    assert deployment.outputs["email"] == "new@example.com"
    assert "delivery_pending" not in deployment.outputs


def test_a_failed_delivery_keeps_the_password_then_the_next_run_delivers_it(
    deployment: DirectStack,
    emulator: Emulator,
    store: UnreliableStore,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "password"
    news = {
        "email": EMAIL,
        "rotation_triggers": {"t": "1"},
        "deliver_to": _through(store, target),
        "store_password": False,
    }
    deployment.up(news)
    calls(emulator)
    capsys.readouterr()

    # The store is down after the DELETE: the update still succeeds and keeps the password.
    store.set("down")
    assert deployment.up(news | {"rotation_triggers": {"t": "2"}}) == "update"
    password = emulator.password_of(DEV_USER)
    assert password is not None
    assert calls(emulator) == ["DELETE"]
    outs = deployment.outputs
    assert outs["new_password"] == password  # store_password=False, yet kept: never lost
    assert outs["delivery_pending"].startswith("delivering the password rotated at ")
    assert "delivery" not in outs
    assert "delivered_to" not in outs["rotation_history"][-1]
    warning = capsys.readouterr().err
    assert (
        "unreliable-store exited with status 3: store unavailable, it was given: [redacted])"
        in warning
    )
    assert "failed 3 times (" in warning
    assert "kept in this stack's state as the secret output new_password" in warning
    assert password not in warning  # the store echoed it; the provider scrubbed it
    assert DEV_TOKEN not in warning
    assert not target.exists()

    # Still down: the next run tries again without a DELETE, fails, and the state keeps it.
    kept = dict(deployment.outputs)
    assert deployment.provider.diff(str(deployment.id), kept, deployment.check(news)).changes
    with pytest.raises(DeliveryError) as caught:
        deployment.up(news | {"rotation_triggers": {"t": "2"}})
    assert caught.value.outcome is Outcome.STATE_HOLDS
    message = str(caught.value)
    assert "stays there as the secret output new_password" in message
    assert "the API password did not change" in message
    assert password not in message
    assert calls(emulator) == []
    assert deployment.outputs == kept

    # Back up: delivered without a DELETE; the state lets go of the password.
    store.set("")
    assert deployment.up(news | {"rotation_triggers": {"t": "2"}}) == "update"
    assert calls(emulator) == []
    assert target.read_text() == password
    outs = deployment.outputs
    assert "new_password" not in outs
    assert "delivery_pending" not in outs
    assert outs["delivery"] is not None
    assert outs["rotation_history"][-1]["delivered_to"] == outs["delivery"]
    assert outs["password_fingerprint"] == fingerprint(password, str(deployment.id))
    assert deployment.up(news | {"rotation_triggers": {"t": "2"}}) == "same"


def _pending_delivery(
    deployment: DirectStack, store: UnreliableStore, target: Path
) -> dict[str, Any]:
    """Outputs whose rotated password waits in state: the store was down at the rotation."""
    news = {
        "email": EMAIL,
        "rotation_triggers": {"t": "1"},
        "deliver_to": _through(store, target),
        "store_password": False,
    }
    deployment.up(news)
    store.set("down")
    deployment.up(news | {"rotation_triggers": {"t": "2"}})
    kept = dict(deployment.outputs)
    assert kept["delivery_pending"]
    return kept


def test_a_delete_delivers_a_waiting_password_first_and_fails_while_it_cannot(
    deployment: DirectStack, emulator: Emulator, store: UnreliableStore, tmp_path: Path
) -> None:
    """The state holds the only copy of the API's current password while its delivery is
    pending: a delete hands it to the store first, and keeps it (by failing) while it cannot."""
    target = tmp_path / "password"
    kept = _pending_delivery(deployment, store, target)
    password = emulator.password_of(DEV_USER)
    assert password is not None
    assert kept["new_password"] == password
    calls(emulator)

    with pytest.raises(DeliveryError) as caught:
        deployment.provider.delete(str(deployment.id), dict(kept))
    assert caught.value.outcome is Outcome.STATE_HOLDS
    message = str(caught.value)
    assert message.startswith(
        "The resource was not deleted: the password kept in its state, the API's current one, "
        "could not be delivered to command: "
    )
    assert "deliver_to is read from the state" in message
    assert message.endswith("drop the resource from the state with `pulumi state delete`.")
    assert message.count(". ") == 0
    assert password not in message
    assert DEV_TOKEN not in message
    assert not target.exists()

    store.set("")
    deployment.provider.delete(str(deployment.id), dict(kept))
    assert target.read_text() == password
    assert calls(emulator) == []  # no API call either way


def test_a_delete_whose_recorded_deliver_to_no_longer_validates_fails_in_one_sentence(
    deployment: DirectStack, emulator: Emulator, store: UnreliableStore, tmp_path: Path
) -> None:
    """The delete reads deliver_to from the state, written by a release with looser checks or
    edited by hand: it is refused with the delete's own sentence, not a traceback."""
    target = tmp_path / "password"
    kept = _pending_delivery(deployment, store, target)
    kept["deliver_to"] = {"kind": "file", "path": str(target), "mode": "0660"}  # now refused

    with pytest.raises(DeliveryError) as caught:
        deployment.provider.delete(str(deployment.id), kept)
    assert caught.value.outcome is Outcome.STATE_HOLDS
    assert caught.value.__context__ is None
    message = str(caught.value)
    assert message.startswith(
        "The resource was not deleted: the password kept in its state, the API's current one, "
        "could not be delivered to the deliver_to recorded in the state (it is no longer a valid "
        "delivery); "
    )
    assert message.count(". ") == 0
    assert not target.exists()


def test_a_delete_drops_a_waiting_password_another_resource_superseded(
    provider: PasswordResetTokenProvider,
    emulator: Emulator,
    store: UnreliableStore,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A rename (or `up --replace`) creates the new resource, which rotates, before it deletes
    the old one: the old one's waiting password is stale and must not overwrite the new one."""
    target = tmp_path / "password"
    news = {"email": EMAIL, "deliver_to": _through(store, target), "store_password": False}
    old = DirectStack(provider)
    old.up(news | {"rotation_triggers": {"t": "1"}})
    store.set("down")
    old.up(news | {"rotation_triggers": {"t": "2"}})
    stale = old.outputs["new_password"]
    assert old.outputs["delivery_pending"]

    this_run = make_provider(dict(PROVIDER_CONFIG, **{"equinix:endpoint": emulator.url}))
    store.set("")
    DirectStack(this_run).up(news | {"rotate_on_create": True})  # the replacement rotates
    current = emulator.password_of(DEV_USER)
    assert current != stale
    assert target.read_text() == current
    capsys.readouterr()

    this_run.delete(str(old.id), dict(old.outputs))
    assert target.read_text() == current  # not overwritten by the stale password
    warning = capsys.readouterr().err
    assert "was dropped with it, not delivered: another resource reset the same API user's" in (
        warning
    )
    assert stale not in warning
    assert current not in warning


def test_a_delete_with_nothing_waiting_runs_no_sink(
    deployment: DirectStack, emulator: Emulator, store: UnreliableStore, tmp_path: Path
) -> None:
    target = tmp_path / "password"
    news = {"email": EMAIL, "rotate_on_create": True, "deliver_to": _through(store, target)}
    deployment.up(news)
    delivered = target.read_text()
    target.unlink()
    store.set("down")  # would fail the delete if it were called
    deployment.provider.delete(str(deployment.id), dict(deployment.outputs))
    assert not target.exists()
    assert delivered == emulator.password_of(DEV_USER)


def test_a_rotation_supersedes_a_pending_delivery(
    deployment: DirectStack, emulator: Emulator, store: UnreliableStore, tmp_path: Path
) -> None:
    target = tmp_path / "password"
    news = {"email": EMAIL, "rotation_triggers": {"t": "1"}, "deliver_to": _through(store, target)}
    deployment.up(news)
    store.set("down")
    deployment.up(news | {"rotation_triggers": {"t": "2"}})
    assert deployment.outputs["delivery_pending"] is not None
    store.set("")
    calls(emulator)
    deployment.up(news | {"rotation_triggers": {"t": "3"}})
    assert calls(emulator) == ["DELETE"]  # one rotation; the stale password is not delivered
    assert target.read_text() == emulator.password_of(DEV_USER)
    assert "delivery_pending" not in deployment.outputs
    assert ["delivered_to" in e for e in deployment.outputs["rotation_history"]] == [False, True]


def test_removing_deliver_to_while_pending_keeps_the_password_in_state(
    deployment: DirectStack, emulator: Emulator, store: UnreliableStore, tmp_path: Path
) -> None:
    news = {
        "email": EMAIL,
        "rotation_triggers": {"t": "1"},
        "deliver_to": _through(store, tmp_path / "password"),
    }
    deployment.up(news)
    store.set("down")
    deployment.up(news | {"rotation_triggers": {"t": "2"}})
    calls(emulator)
    assert deployment.up({"email": EMAIL, "rotation_triggers": {"t": "2"}}) == "update"
    assert calls(emulator) == []
    outs = deployment.outputs
    assert outs["new_password"] == emulator.password_of(DEV_USER)
    assert "delivery_pending" not in outs
    assert "deliver_to" not in outs


def test_adding_deliver_to_delivers_the_password_already_in_state(
    deployment: DirectStack, emulator: Emulator, tmp_path: Path
) -> None:
    deployment.up({"email": EMAIL, "rotate_on_create": True})
    calls(emulator)
    target = tmp_path / "password"
    news = {
        "email": EMAIL,
        "rotate_on_create": True,
        "deliver_to": deliver.file(str(target)),
        "store_password": False,
    }
    assert deployment.up(news) == "update"
    assert calls(emulator) == []
    assert target.read_text() == emulator.password_of(DEV_USER)
    assert "new_password" not in deployment.outputs
    assert deployment.up(news) == "same"


def test_a_new_timeout_alone_is_recorded_without_a_call(
    deployment: DirectStack, emulator: Emulator, tmp_path: Path
) -> None:
    argv = file_writer(tmp_path / "password")
    news = {"email": EMAIL, "deliver_to": deliver.command(argv), "store_password": False}
    deployment.up(news)
    calls(emulator)
    longer = news | {"deliver_to": deliver.command(argv, timeout=120)}
    assert deployment.up(longer) == "update"
    assert calls(emulator) == []
    assert deployment.outputs["deliver_to"]["timeout"] == 120.0


def test_an_unknown_deliver_to_is_a_possible_change(deployment: DirectStack) -> None:
    deployment.up({"email": EMAIL})
    news = deployment.check({"email": EMAIL}) | {"deliver_to": UNKNOWN_SENTINEL}
    assert deployment.provider.diff(str(deployment.id), deployment.outputs, news).changes


def test_an_ambiguous_delete_is_raised_as_today_and_delivers_nothing(
    deployment: DirectStack, emulator: Emulator, tmp_path: Path, provider: Any
) -> None:
    target = tmp_path / "password"
    news = {
        "email": EMAIL,
        "rotation_triggers": {"t": "1"},
        "deliver_to": deliver.file(str(target)),
    }
    deployment.up(news)
    before = dict(deployment.outputs)
    emulator.faults.set(script=("drop",))
    with pytest.raises(AmbiguousNetworkError, match="pulumi up"):
        deployment.up(news | {"rotation_triggers": {"t": "2"}})
    assert deployment.outputs == before
    assert not target.exists()
    # The claim stays: the password may have changed, so no other resource rotates this user.
    with pytest.raises(SharedCredentialError):
        DirectStack(provider).up({"email": "other@example.com", "rotate_on_create": True})
    # The next run rotates again, to a password the sink receives.
    emulator.faults.clear()
    deployment.up(news | {"rotation_triggers": {"t": "2"}})
    assert target.read_text() == emulator.password_of(DEV_USER)


def test_a_failed_delete_after_the_mail_says_the_password_did_not_change(
    deployment: DirectStack, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.faults.set(script=("ok", *["503"] * 12))  # 503 (retried 10 times): not applied
    target = tmp_path / "password"
    news = {"email": EMAIL, "rotate_on_create": True, "deliver_to": deliver.file(str(target))}
    with pytest.raises(RotationAfterCreateError) as caught:
        deployment.up(news)
    assert (
        "(resetting the password failed with HTTP 503, so the API password did not change)"
        in str(caught.value)
    )
    assert not target.exists()

"""The never-lose-a-password decisions, as pure functions of outcomes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulumi_metal_reset import deliver
from pulumi_metal_reset.delivery import fingerprint
from pulumi_metal_reset.delivery.outcome import (
    OUTPUTS,
    Outcome,
    after_redelivery,
    after_rotation,
    kept_in_state,
    not_started,
    redelivery_failed,
    redelivery_reason,
    stored_password,
    times,
)
from pulumi_metal_reset.unknowns import UNKNOWN_SENTINEL as UNKNOWN

PASSWORD = "Pw-planted-7Qx!r9#Lm2$vT8&kZ"
RID = "rid-1"
AT = "2025-03-01T00:00:00Z"
WHERE = "command: pass insert --multiline --force metal/ops"
TARGET = deliver.command(["pass", "insert", "--multiline", "--force", "metal/ops"])


def _rotation(**overrides: Any) -> Any:
    args: dict[str, Any] = {
        "password": PASSWORD,
        "resource_id": RID,
        "at": AT,
        "reason": "rotation_triggers changed",
        "slot": None,
        "store_password": False,
        "history": [],
        "description": WHERE,
        "delivered_at": "2025-03-01T00:00:01Z",
    }
    return after_rotation(**(args | overrides))


def _one_sentence(text: str) -> None:
    assert text[0].isupper()
    assert text.endswith(".")
    assert ". " not in text[:-1]
    assert "\n" not in text
    assert PASSWORD not in text


def test_delivered_and_not_stored() -> None:
    settled = _rotation()
    assert settled.outcome is Outcome.SINK_HOLDS
    assert settled.warning is None
    assert set(settled.outputs) == set(OUTPUTS)
    assert settled.outputs == {
        "new_password": None,
        "password_fingerprint": fingerprint(PASSWORD, RID),
        "delivered_at": "2025-03-01T00:00:01Z",
        "delivery": WHERE,
        "delivery_pending": None,
        "rotation_history": [
            {
                "at": AT,
                "reason": "rotation_triggers changed",
                "fingerprint": fingerprint(PASSWORD, RID),
                "delivered_to": WHERE,
            }
        ],
    }


def test_delivered_and_stored() -> None:
    settled = _rotation(store_password=True)
    assert settled.outcome is Outcome.SINK_HOLDS
    assert settled.outputs["new_password"] == PASSWORD


def test_no_target_keeps_the_password_in_state_as_today() -> None:
    settled = _rotation(store_password=True, description=None, delivered_at=None)
    assert settled.outcome is Outcome.STATE_HOLDS
    assert settled.warning is None
    assert settled.outputs["new_password"] == PASSWORD
    assert settled.outputs["delivery"] is None
    assert settled.outputs["rotation_history"][-1].get("delivered_to") is None


@pytest.mark.parametrize("store", [True, False])
def test_a_failed_delivery_keeps_the_password_in_state_and_says_so(store: bool) -> None:
    settled = _rotation(store_password=store, failure=(3, "pass exited with status 1: no"))
    assert settled.outcome is Outcome.STATE_HOLDS
    assert settled.outputs["new_password"] == PASSWORD
    assert settled.outputs["delivered_at"] is None
    assert settled.outputs["delivery"] is None
    assert settled.outputs["rotation_history"][-1].get("delivered_to") is None
    assert settled.outputs["password_fingerprint"] == fingerprint(PASSWORD, RID)
    pending = settled.outputs["delivery_pending"]
    assert pending.startswith(f"delivering the password rotated at {AT} to {WHERE} failed")
    assert "status 1" not in pending  # command output never goes into state
    warning = settled.warning
    assert warning is not None
    _one_sentence(warning)
    assert "failed 3 times (pass exited with status 1: no)" in warning
    assert "kept in this stack's state as the secret output new_password" in warning
    assert ("removes it from state" in warning) is (not store)


@pytest.mark.parametrize(
    "overrides",
    [{}, {"description": None}, {"failure": (3, "exit status 1"), "delivered_at": None}],
    ids=["delivered", "no-target", "failed"],
)
def test_every_settlement_after_a_rotation_says_when_it_rotated(overrides: dict[str, Any]) -> None:
    assert _rotation(**overrides).rotated_at == AT


def test_the_settlement_repr_never_shows_the_password() -> None:
    settled = _rotation(store_password=True, failure=(1, "x"))
    assert PASSWORD not in repr(settled)
    assert PASSWORD not in str(settled)


@given(
    st.booleans(),
    st.one_of(st.none(), st.just(WHERE)),
    st.one_of(st.none(), st.tuples(st.integers(1, 5), st.text(max_size=30))),
)
def test_the_password_is_never_lost(
    store: bool, description: str | None, failure: tuple[int, str] | None
) -> None:
    """Whatever happens after the DELETE, the sink or the state holds the new password."""
    if description is None:
        failure = None
        store = True  # validation refuses store_password=False without deliver_to
    settled = _rotation(store_password=store, description=description, failure=failure)
    delivered = description is not None and failure is None
    assert (settled.outcome is Outcome.SINK_HOLDS) == delivered
    if settled.outcome is not Outcome.SINK_HOLDS:
        assert settled.outputs["new_password"] == PASSWORD
    assert (settled.warning is not None) == (description is not None and failure is not None)


def test_stored_password_is_dropped_only_when_delivered_and_opted_out() -> None:
    assert stored_password("p", store_password=False, delivered=True) is None
    assert stored_password("p", store_password=False, delivered=False) == "p"
    assert stored_password("p", store_password=True, delivered=True) == "p"
    assert stored_password("p", store_password=True, delivered=False) == "p"


def test_times_is_the_count_every_delivery_sentence_uses() -> None:
    from pulumi_metal_reset.delivery.errors import DeliveryFailedError

    assert [times(n) for n in (1, 2, 3)] == ["once", "2 times", "3 times"]
    assert "failed once: " in str(DeliveryFailedError(WHERE, 1, "exit status 1"))
    assert "failed 3 times (" in kept_in_state(WHERE, 3, "exit status 1", store_password=True)


def test_a_redelivery_marks_the_rotation_delivered_and_drops_the_password() -> None:
    failed = _rotation(failure=(3, "x")).outputs
    settled = after_redelivery(
        password=PASSWORD,
        resource_id=RID,
        store_password=False,
        history=failed["rotation_history"],
        description=WHERE,
        delivered_at="2025-03-02T00:00:00Z",
    )
    assert settled.outcome is Outcome.SINK_HOLDS
    assert settled.outputs["new_password"] is None
    assert settled.outputs["delivery_pending"] is None
    assert settled.outputs["delivered_at"] == "2025-03-02T00:00:00Z"
    assert settled.outputs["rotation_history"][-1]["delivered_to"] == WHERE


# --- when the next `pulumi up` must deliver --------------------------------------------------


def _olds(**overrides: Any) -> dict[str, Any]:
    base = {
        "new_password": PASSWORD,
        "delivery_pending": None,
        "deliver_to": TARGET,
        "store_password": True,
    }
    return base | overrides


def _news(**overrides: Any) -> dict[str, Any]:
    return {"deliver_to": TARGET, "store_password": True} | overrides


@pytest.mark.parametrize(
    ("olds", "news", "reason"),
    [
        (_olds(), _news(), None),
        (_olds(delivery_pending="x"), _news(), "the last delivery failed"),
        (_olds(), _news(store_password=False), "store_password is false"),
        (_olds(store_password=False), _news(store_password=False), "store_password is false"),
        (_olds(deliver_to=None), _news(), "deliver_to changed"),
        (_olds(), _news(deliver_to=deliver.file("/etc/metal/password")), "deliver_to changed"),
        (_olds(new_password=None, delivery_pending="x"), _news(), None),
        (_olds(delivery_pending="x"), _news(deliver_to=None), None),
        (_olds(delivery_pending="x"), _news(deliver_to=UNKNOWN), None),
        (_olds(delivery_pending="x"), _news(deliver_to={"kind": "file", "path": UNKNOWN}), None),
        (_olds(delivery_pending="x"), _news(store_password=UNKNOWN), None),
        # A timeout is no new place: nothing to deliver again.
        (_olds(), _news(deliver_to=TARGET | {"timeout": 5.0}), None),
    ],
)
def test_redelivery_reason(olds: dict[str, Any], news: dict[str, Any], reason: str | None) -> None:
    found = redelivery_reason(olds, news)
    if reason is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(reason)


def test_after_a_redelivery_nothing_is_due_any_more() -> None:
    """Convergence: the outputs a redelivery records make the next diff quiet."""
    news = _news(store_password=False)
    olds = _olds(delivery_pending="x")
    assert redelivery_reason(olds, news) is not None
    settled = after_redelivery(
        password=PASSWORD,
        resource_id=RID,
        store_password=False,
        history=[],
        description=WHERE,
        delivered_at=AT,
    )
    assert redelivery_reason(olds | settled.outputs | news, news) is None


def test_every_sentence_is_one_sentence_that_says_which_guarantee_holds() -> None:
    first = not_started(
        "the delivery command pass was not found on the PATH the provider process sees (/bin)",
        "install it, or give its absolute path as deliver_to.argv[0]",
    )
    _one_sentence(first)
    assert "the API password did not change" in first
    second = kept_in_state(WHERE, 3, "pass exited with status 2", store_password=False)
    _one_sentence(second)
    assert "kept in this stack's state" in second
    third = redelivery_failed(WHERE, "failed once: pass exited with status 2", "fix the store")
    _one_sentence(third)
    assert "stays there" in third
    assert "the API password did not change" in third

"""The provider's lifecycle against the emulator over real loopback HTTP, called directly.

Stands in for the engine (see conftest.DirectStack); the real gRPC server path is covered in
tests/protocol and the whole program path in tests/examples.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from pulumi.runtime import rpc

from pulumi_metal_reset import provider as provider_module
from pulumi_metal_reset import schedule
from pulumi_metal_reset.credentials import credential_id
from pulumi_metal_reset.emulator import DEV_TOKEN, DEV_USER, Emulator
from pulumi_metal_reset.errors import (
    AmbiguousNetworkError,
    ConfigurationError,
    RotationAfterCreateError,
    UnauthorizedError,
)
from pulumi_metal_reset.provider import PasswordResetTokenProvider
from pulumi_metal_reset.settings import MISSING_CREDENTIAL
from pulumi_metal_reset.state import Outputs
from pulumi_metal_reset.unknowns import UNKNOWN_SENTINEL

from .conftest import DirectStack, make_provider

DAY = 86400
EMAIL = "ops+metal@example.com"


def calls(emulator: Emulator) -> list[str]:
    return [entry.method for entry in emulator.journal]


def test_create_posts_once_and_records_state(deployment: DirectStack, emulator: Emulator) -> None:
    assert deployment.up({"email": EMAIL}) == "create"
    assert calls(emulator) == ["POST"]
    assert emulator.journal[0].query == {"email": [EMAIL]}
    assert uuid.UUID(str(deployment.id))
    outs = deployment.outputs
    assert outs["email"] == EMAIL
    assert outs["rotation_count"] == 0
    assert "new_password" not in outs
    assert "rotated_at" not in outs
    assert outs["requested_at"].endswith("Z")
    assert outs["rotation_triggers"] == {}
    assert outs["credential_id"] == credential_id(DEV_TOKEN)
    assert "schedule_note" not in outs
    assert "auth_token" not in outs


def test_a_property_left_out_is_what_the_server_would_send_for_none() -> None:
    """The provider drops None values (`_sent`) because the SDK's server drops them anyway:
    pinned on the installed SDK, so a release that started sending nulls would fail here."""
    outs = Outputs(email=EMAIL).to_wire()
    assert None in outs.values()

    def wire(props: dict[str, Any]) -> Any:
        return asyncio.run(rpc.serialize_properties(props, {}))

    assert wire(provider_module._sent(outs)) == wire(outs)
    assert None not in provider_module._sent(outs).values()


def test_rotate_on_create_rotates_right_after(deployment: DirectStack, emulator: Emulator) -> None:
    deployment.up({"email": EMAIL, "rotate_on_create": True})
    assert calls(emulator) == ["POST", "DELETE"]
    assert deployment.outputs["new_password"] == emulator.password_of(DEV_USER)
    assert deployment.outputs["rotation_count"] == 1
    assert deployment.outputs["rotation_reason"] == "rotate_on_create"


def test_unchanged_inputs_make_no_call(deployment: DirectStack, emulator: Emulator) -> None:
    news = {"email": EMAIL, "rotation_triggers": {"t": "1"}, "rotate_every": "30d"}
    deployment.up(news)
    emulator.reset_journal()
    assert deployment.up(news) == "same"
    assert deployment.up(news | {"rotate_every": "P30D"}) == "same"
    assert calls(emulator) == []


def test_changed_trigger_rotates_once(deployment: DirectStack, emulator: Emulator) -> None:
    deployment.up({"email": EMAIL, "rotation_triggers": {"ticket": "SEC-1"}})
    emulator.reset_journal()
    assert deployment.up({"email": EMAIL, "rotation_triggers": {"ticket": "SEC-2"}}) == "update"
    assert calls(emulator) == ["DELETE"]
    assert deployment.outputs["new_password"] == emulator.password_of(DEV_USER)
    assert deployment.outputs["rotation_count"] == 1
    assert deployment.outputs["rotation_reason"] == "rotation_triggers changed"
    assert deployment.up({"email": EMAIL, "rotation_triggers": {"ticket": "SEC-2"}}) == "same"


def test_schedule_rotates_once_after_missed_periods(
    deployment: DirectStack, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    t0 = 1_780_000_000
    slot0 = t0 - t0 % DAY  # a new schedule starts at the UTC day (check is deterministic)
    clock = {"now": t0}
    monkeypatch.setattr(provider_module, "_now", lambda: clock["now"])
    news = {"email": EMAIL, "rotate_every": "30d"}
    deployment.up(news)
    assert deployment.outputs["rotation_slot"] == schedule.format_timestamp(slot0)
    assert deployment.outputs["next_rotation_at"] == schedule.format_timestamp(slot0 + 30 * DAY)
    emulator.reset_journal()

    clock["now"] = t0 + 29 * DAY
    assert deployment.up(news) == "same"
    clock["now"] = t0 + 95 * DAY  # three periods later, the run was late
    assert deployment.up(news) == "update"
    assert deployment.up(news) == "same"
    assert calls(emulator) == ["DELETE"]
    assert deployment.outputs["rotation_slot"] == schedule.format_timestamp(slot0 + 90 * DAY)
    assert deployment.outputs["next_rotation_at"] == schedule.format_timestamp(slot0 + 120 * DAY)


def test_changing_the_schedule_alone_makes_no_call(
    deployment: DirectStack, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    t0 = 1_780_000_000
    monkeypatch.setattr(provider_module, "_now", lambda: t0 + 10 * DAY)
    deployment.outputs = {}
    deployment.up({"email": EMAIL, "rotate_every": "30d"})
    emulator.reset_journal()
    assert deployment.up({"email": EMAIL, "rotate_every": "7d"}) == "update"
    assert calls(emulator) == []
    assert deployment.outputs["rotate_every"] == "P7D"
    assert deployment.outputs["rotation_count"] == 0


def test_changed_email_mails_in_place_and_keeps_everything_else(
    deployment: DirectStack, emulator: Emulator
) -> None:
    """Issue 8 §5: an email change is always an in-place update, whatever the day."""
    news = {"email": EMAIL, "rotate_on_create": True, "rotate_every": "30d"}
    deployment.up(news)
    first_id, before = deployment.id, dict(deployment.outputs)
    emulator.reset_journal()
    diff = deployment.provider.diff(
        str(first_id), dict(before), deployment.check(news | {"email": "other@example.com"})
    )
    assert (diff.changes, diff.replaces) == (True, [])
    assert deployment.up(news | {"email": "other@example.com"}) == "update"
    assert [(e.method, e.query) for e in emulator.journal] == [
        ("POST", {"email": ["other@example.com"]})
    ]
    assert deployment.id == first_id
    assert deployment.outputs["email"] == "other@example.com"
    # The schedule, the count and the recorded password carry over: no rotation was due.
    for key in ("new_password", "rotation_count", "rotation_slot", "next_rotation_at"):
        assert deployment.outputs[key] == before[key], key
    assert deployment.outputs["rotation_count"] == 1
    assert deployment.up(news | {"email": "other@example.com"}) == "same"


def test_email_change_with_a_due_rotation_is_made_in_place(
    deployment: DirectStack, emulator: Emulator
) -> None:
    """A replacement is re-checked without old state and would lose the rotation: update."""
    deployment.up({"email": EMAIL, "rotation_triggers": {"ticket": "SEC-1"}})
    first_id = deployment.id
    emulator.reset_journal()
    news = {"email": "other@example.com", "rotation_triggers": {"ticket": "SEC-2"}}
    assert deployment.up(news) == "update"
    assert deployment.id == first_id
    assert [(e.method, e.query) for e in emulator.journal] == [
        ("POST", {"email": ["other@example.com"]}),
        ("DELETE", {}),
    ]
    assert deployment.outputs["email"] == "other@example.com"
    assert deployment.outputs["new_password"] == emulator.password_of(DEV_USER)
    assert deployment.outputs["rotation_reason"] == "rotation_triggers changed"
    assert deployment.outputs["rotation_count"] == 1
    assert deployment.up(news) == "same"


def test_in_place_email_change_whose_rotation_fails_says_the_email_went_out(
    deployment: DirectStack, emulator: Emulator
) -> None:
    deployment.up({"email": EMAIL, "rotation_triggers": {"t": "1"}})
    before = dict(deployment.outputs)
    emulator.faults.set(script=("ok", "500"))
    with pytest.raises(RotationAfterCreateError, match=r"mailed to other@example\.com"):
        deployment.up({"email": "other@example.com", "rotation_triggers": {"t": "2"}})
    assert deployment.outputs == before


def test_token_or_endpoint_change_alone_makes_no_call(
    deployment: DirectStack, emulator: Emulator
) -> None:
    """An endpoint change is no change; a token change records the new credential_id only."""
    deployment.up({"email": EMAIL})
    emulator.reset_journal()
    assert deployment.up({"email": EMAIL, "api_url": "http://localhost:9"}) == "same"
    news = {"email": EMAIL, "auth_token": "another-token", "api_url": "http://localhost:9"}
    assert deployment.up(news) == "update"
    assert deployment.outputs["credential_id"] == credential_id("another-token")
    assert deployment.up(news) == "same"
    assert calls(emulator) == []


def test_unknowns_in_preview_are_a_possible_change(deployment: DirectStack) -> None:
    deployment.up({"email": EMAIL})
    checked = deployment.check({"email": EMAIL, "rotation_triggers": {"t": UNKNOWN_SENTINEL}})
    diff = deployment.provider.diff(str(deployment.id), deployment.outputs, checked)
    assert diff.changes is True
    assert diff.replaces == []
    checked = deployment.check({"email": UNKNOWN_SENTINEL, "rotate_every": UNKNOWN_SENTINEL})
    assert checked["rotation_slot"] == UNKNOWN_SENTINEL
    diff = deployment.provider.diff(str(deployment.id), deployment.outputs, checked)
    assert diff.changes is True
    assert diff.replaces == []


def test_check_reports_every_failure(provider: PasswordResetTokenProvider) -> None:
    result = provider.check({}, {"email": "nope", "rotate_every": "P1M", "auth_token": ""})
    assert sorted(f.property for f in result.failures) == ["", "email", "rotate_every"]


def test_missing_token_fails_only_when_a_call_is_needed(emulator: Emulator) -> None:
    bare = DirectStack(make_provider({"equinix:endpoint": emulator.url}))
    # Issue 8 §7: a create calls the API, so check (and so preview) fails with up's sentence.
    failures = bare.provider.check({}, {"email": EMAIL}).failures
    assert [(f.property, f.reason) for f in failures] == [("", MISSING_CREDENTIAL)]
    with pytest.raises(ConfigurationError) as caught:
        bare.provider.create({"email": EMAIL})
    assert str(caught.value) == MISSING_CREDENTIAL
    assert calls(emulator) == []

    # A stack created with a token keeps working without one while nothing calls the API.
    bare.up({"email": EMAIL, "auth_token": "metal-emulator-dev-token"})
    emulator.reset_journal()
    assert bare.up({"email": EMAIL}) == "update"  # ~credential_id: recorded, no call
    assert "credential_id" not in bare.outputs
    assert bare.up({"email": EMAIL}) == "same"
    assert bare.up({"email": EMAIL, "rotate_every": "1h"}) == "update"
    failures = bare.provider.check(
        bare.inputs, {"email": EMAIL, "rotate_every": "1h", "rotation_triggers": {"t": "x"}}
    ).failures
    assert [(f.property, f.reason) for f in failures] == [("", MISSING_CREDENTIAL)]
    assert calls(emulator) == []


def test_resource_token_input_overrides_config(emulator: Emulator) -> None:
    wrong = DirectStack(
        make_provider({"equinix:endpoint": emulator.url, "equinix:authToken": "not-valid"})
    )
    with pytest.raises(UnauthorizedError, match="the stack config equinix:authToken"):
        wrong.up({"email": EMAIL})
    assert wrong.up({"email": EMAIL, "auth_token": "metal-emulator-dev-token"}) == "create"


def test_failed_rotation_leaves_state_for_a_retry(
    deployment: DirectStack, emulator: Emulator
) -> None:
    deployment.up({"email": EMAIL, "rotation_triggers": {"t": "1"}})
    before = (dict(deployment.inputs), dict(deployment.outputs))
    emulator.faults.set(script=("drop",))
    with pytest.raises(AmbiguousNetworkError, match="pulumi up"):
        deployment.up({"email": EMAIL, "rotation_triggers": {"t": "2"}})
    assert (deployment.inputs, deployment.outputs) == before
    assert deployment.up({"email": EMAIL, "rotation_triggers": {"t": "2"}}) == "update"
    assert deployment.outputs["new_password"] == emulator.password_of(DEV_USER)


def test_rotation_failing_after_create_says_the_email_went_out(
    deployment: DirectStack, emulator: Emulator
) -> None:
    emulator.faults.set(script=("ok", "500"))
    with pytest.raises(RotationAfterCreateError) as caught:
        deployment.up({"email": EMAIL, "rotate_on_create": True})
    message = str(caught.value)
    assert f"mailed to {EMAIL}" in message
    # Built from the error's operation, status and ambiguity, never from its class name.
    assert "(resetting the password failed with HTTP 500, so it may have taken effect)" in message
    assert "AmbiguousServer" not in message
    assert caught.value.ambiguous is True
    assert caught.value.operation is not None
    assert caught.value.operation.method == "DELETE"
    assert message.endswith("so the next `pulumi up` mails a new token and rotates again.")
    assert "half-done change" in message
    assert message.count(". ") == 0  # one sentence, with no advice from the inner error
    assert calls(emulator) == ["POST", "DELETE"]


def test_read_keeps_state_and_delete_makes_no_call(
    deployment: DirectStack, emulator: Emulator
) -> None:
    deployment.up({"email": EMAIL, "rotate_on_create": True})
    emulator.reset_journal()
    read = deployment.provider.read(str(deployment.id), dict(deployment.outputs))
    assert read.id == deployment.id
    assert read.outs == deployment.outputs
    deployment.provider.delete(str(deployment.id), dict(deployment.outputs))
    assert calls(emulator) == []


def test_invalid_config_fails_when_a_call_needs_it(emulator: Emulator) -> None:
    broken = DirectStack(
        make_provider(
            {
                "equinix:endpoint": emulator.url,
                "equinix:authToken": "metal-emulator-dev-token",
                "equinix:requestTimeout": "soon",
            }
        )
    )
    failures = broken.provider.check({}, {"email": EMAIL}).failures
    assert len(failures) == 1
    assert failures[0].property == ""
    with pytest.raises(ConfigurationError) as caught:
        broken.provider.create({"email": EMAIL})
    assert str(caught.value).startswith("The stack config equinix:requestTimeout")
    assert failures[0].reason == str(caught.value)  # preview fails with up's sentence
    assert calls(emulator) == []


def test_a_bad_token_in_config_fails_with_a_short_traceback(emulator: Emulator) -> None:
    import traceback

    broken = make_provider({"equinix:endpoint": emulator.url, "equinix:authToken": "abc def"})
    try:
        broken.create({"email": EMAIL})
    except ConfigurationError:
        text = traceback.format_exc()
    else:
        raise AssertionError("create did not fail")
    frames = [
        line for line in text.splitlines() if 'File "' in line and "pulumi_metal_reset" in line
    ]
    assert len(frames) <= 2, text
    assert "abc def" not in text
    assert "the stack config equinix:authToken" in text.strip().splitlines()[-1]


def test_one_provider_serves_four_threads(metal_emulator_factory: Any) -> None:
    """The server calls one cached instance from up to four threads at once.

    Each resource has its own API user: one run rotates each user once (see test_credentials).
    """
    from concurrent.futures import ThreadPoolExecutor

    tokens = {f"tok-{n}": f"user{n}" for n in range(16)}
    emulator = metal_emulator_factory(tokens)
    provider = make_provider(
        {"equinix:endpoint": emulator.url, "equinix:maxRetryWaitSeconds": "0.05"}
    )

    def lifecycle(n: int) -> Any:
        run = DirectStack(provider)
        news = {"email": f"user{n}@example.com", "auth_token": f"tok-{n}"}
        run.up(news | {"rotate_on_create": True})
        run.up(news | {"rotation_triggers": {"n": str(n)}})
        return run.outputs

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lifecycle, range(16)))
    passwords = [r["new_password"] for r in results]
    assert all(r["rotation_count"] == 2 for r in results)
    assert len(set(passwords)) == len(passwords)
    assert passwords == [emulator.password_of(f"user{n}") for n in range(16)]


def test_sdk_unknown_objects_are_accepted(deployment: DirectStack) -> None:
    """The server deserializes preview unknowns as `pulumi.output.Unknown`, not the string."""
    from pulumi.output import Unknown

    deployment.up({"email": EMAIL})
    result = deployment.provider.check(
        dict(deployment.inputs),
        {"email": Unknown(), "rotation_triggers": {"t": Unknown()}},  # type: ignore[no-untyped-call]
    )
    assert result.failures == []
    assert result.inputs["email"] == UNKNOWN_SENTINEL
    diff = deployment.provider.diff(
        str(deployment.id),
        dict(deployment.outputs),
        {"email": Unknown(), "rotation_slot": None},  # type: ignore[no-untyped-call]
    )
    assert diff.changes is True
    assert diff.replaces == []


def test_an_internationalised_domain_reaches_the_api_in_ascii(
    deployment: DirectStack, emulator: Emulator
) -> None:
    """Issue 8 §8: state keeps the domain's Unicode form; the API gets its IDNA form."""
    news = {"email": "Ops@Bücher.example", "rotation_triggers": {"t": "1"}}
    deployment.up(news)
    assert [e.query for e in emulator.journal] == [{"email": ["Ops@xn--bcher-kva.example"]}]
    assert deployment.outputs["email"] == deployment.inputs["email"] == "Ops@bücher.example"
    emulator.reset_journal()
    # The ASCII spelling is the same address: no change, no mail.
    assert deployment.up(news | {"email": "Ops@xn--bcher-kva.example"}) == "same"
    # An in-place email change sends the ASCII form too.
    assert deployment.up(news | {"email": "ops@faß.de"}) == "update"
    assert [e.query for e in emulator.journal] == [{"email": ["ops@xn--fa-hia.de"]}]


def test_rotation_count_stays_an_int_when_carried_over(deployment: DirectStack) -> None:
    """Issue 8 §8: the Struct wire returns 1.0; an update that does not rotate hands back 1."""
    deployment.up({"email": EMAIL, "rotate_on_create": True})
    olds = dict(deployment.outputs) | {"rotation_count": 1.0}  # as the server decodes it
    checked = deployment.check({"email": EMAIL, "rotate_every": "1d"})
    outs = deployment.provider.update(str(deployment.id), olds, checked).outs or {}
    assert outs["rotation_count"] == 1
    assert type(outs["rotation_count"]) is int

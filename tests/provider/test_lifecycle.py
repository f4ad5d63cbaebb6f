"""The provider's lifecycle against the emulator over real loopback HTTP, called directly.

Stands in for the engine (see conftest.Deployment); the real gRPC server path is covered in
tests/protocol and the whole program path in tests/examples.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from pulumi_metal_reset import provider as provider_module
from pulumi_metal_reset import schedule
from pulumi_metal_reset.emulator import DEV_USER, Emulator
from pulumi_metal_reset.errors import (
    AmbiguousNetworkError,
    ConfigurationError,
    RotationAfterCreateError,
    UnauthorizedError,
)
from pulumi_metal_reset.inputs import UNKNOWN
from pulumi_metal_reset.provider import PasswordResetTokenProvider

from .conftest import Deployment, make_provider

DAY = 86400
EMAIL = "ops+metal@example.com"


def calls(emulator: Emulator) -> list[str]:
    return [entry.method for entry in emulator.journal]


def test_create_posts_once_and_records_state(deployment: Deployment, emulator: Emulator) -> None:
    assert deployment.up({"email": EMAIL}) == "create"
    assert calls(emulator) == ["POST"]
    assert emulator.journal[0].query == {"email": [EMAIL]}
    assert uuid.UUID(str(deployment.id))
    outs = deployment.outputs
    assert outs["email"] == EMAIL
    assert outs["rotation_count"] == 0
    assert outs["new_password"] is None
    assert outs["rotated_at"] is None
    assert outs["requested_at"].endswith("Z")
    assert outs["rotation_triggers"] == {}
    assert "auth_token" not in outs


def test_rotate_on_create_rotates_right_after(deployment: Deployment, emulator: Emulator) -> None:
    deployment.up({"email": EMAIL, "rotate_on_create": True})
    assert calls(emulator) == ["POST", "DELETE"]
    assert deployment.outputs["new_password"] == emulator.password_of(DEV_USER)
    assert deployment.outputs["rotation_count"] == 1
    assert deployment.outputs["rotation_reason"] == "rotate_on_create"


def test_unchanged_inputs_make_no_call(deployment: Deployment, emulator: Emulator) -> None:
    news = {"email": EMAIL, "rotation_triggers": {"t": "1"}, "rotate_every": "30d"}
    deployment.up(news)
    emulator.reset_journal()
    assert deployment.up(news) == "same"
    assert deployment.up(news | {"rotate_every": "P30D"}) == "same"
    assert calls(emulator) == []


def test_changed_trigger_rotates_once(deployment: Deployment, emulator: Emulator) -> None:
    deployment.up({"email": EMAIL, "rotation_triggers": {"ticket": "SEC-1"}})
    emulator.reset_journal()
    assert deployment.up({"email": EMAIL, "rotation_triggers": {"ticket": "SEC-2"}}) == "update"
    assert calls(emulator) == ["DELETE"]
    assert deployment.outputs["new_password"] == emulator.password_of(DEV_USER)
    assert deployment.outputs["rotation_count"] == 1
    assert deployment.outputs["rotation_reason"] == "rotation_triggers changed"
    assert deployment.up({"email": EMAIL, "rotation_triggers": {"ticket": "SEC-2"}}) == "same"


def test_schedule_rotates_once_after_missed_periods(
    deployment: Deployment, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    t0 = 1_780_000_000
    clock = {"now": t0}
    monkeypatch.setattr(provider_module, "_now", lambda: clock["now"])
    news = {"email": EMAIL, "rotate_every": "30d"}
    deployment.up(news)
    assert deployment.outputs["rotation_slot"] == schedule.format_timestamp(t0)
    assert deployment.outputs["next_rotation_at"] == schedule.format_timestamp(t0 + 30 * DAY)
    emulator.reset_journal()

    clock["now"] = t0 + 29 * DAY
    assert deployment.up(news) == "same"
    clock["now"] = t0 + 95 * DAY  # three periods later, the run was late
    assert deployment.up(news) == "update"
    assert deployment.up(news) == "same"
    assert calls(emulator) == ["DELETE"]
    assert deployment.outputs["rotation_slot"] == schedule.format_timestamp(t0 + 90 * DAY)
    assert deployment.outputs["next_rotation_at"] == schedule.format_timestamp(t0 + 120 * DAY)


def test_changing_the_schedule_alone_makes_no_call(
    deployment: Deployment, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
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


def test_changed_email_replaces_with_a_new_token(
    deployment: Deployment, emulator: Emulator
) -> None:
    deployment.up({"email": EMAIL, "rotate_on_create": True})
    emulator.reset_journal()
    assert deployment.up({"email": "other@example.com"}) == "replace"
    assert calls(emulator) == ["POST"]
    assert deployment.outputs["email"] == "other@example.com"
    # A replacement is a new resource: it knows no password until it rotates.
    assert deployment.outputs["new_password"] is None
    assert deployment.outputs["rotation_count"] == 0


def test_email_change_with_a_due_rotation_is_made_in_place(
    deployment: Deployment, emulator: Emulator
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
    deployment: Deployment, emulator: Emulator
) -> None:
    deployment.up({"email": EMAIL, "rotation_triggers": {"t": "1"}})
    before = dict(deployment.outputs)
    emulator.faults.set(script=("ok", "500"))
    with pytest.raises(RotationAfterCreateError, match=r"mailed to other@example\.com"):
        deployment.up({"email": "other@example.com", "rotation_triggers": {"t": "2"}})
    assert deployment.outputs == before


def test_token_or_endpoint_change_alone_is_no_change(
    deployment: Deployment, emulator: Emulator
) -> None:
    deployment.up({"email": EMAIL})
    emulator.reset_journal()
    news = {"email": EMAIL, "auth_token": "another-token", "api_url": "http://localhost:9"}
    assert deployment.up(news) == "same"
    assert calls(emulator) == []


def test_unknowns_in_preview_are_a_possible_change(deployment: Deployment) -> None:
    deployment.up({"email": EMAIL})
    checked = deployment.check({"email": EMAIL, "rotation_triggers": {"t": UNKNOWN}})
    diff = deployment.provider.diff(str(deployment.id), deployment.outputs, checked)
    assert diff.changes is True
    assert diff.replaces == []
    checked = deployment.check({"email": UNKNOWN, "rotate_every": UNKNOWN})
    assert checked["rotation_slot"] == UNKNOWN
    diff = deployment.provider.diff(str(deployment.id), deployment.outputs, checked)
    assert diff.replaces == ["email"]


def test_check_reports_every_failure(provider: PasswordResetTokenProvider) -> None:
    result = provider.check({}, {"email": "nope", "rotate_every": "P1M", "auth_token": ""})
    assert sorted(f.property for f in result.failures) == ["", "email", "rotate_every"]


def test_missing_token_fails_only_when_a_call_is_needed(emulator: Emulator) -> None:
    bare = Deployment(make_provider({"equinix:endpoint": emulator.url}))
    checked = bare.check({"email": EMAIL})
    with pytest.raises(ConfigurationError) as caught:
        bare.provider.create(checked)
    assert "METAL_AUTH_TOKEN" in str(caught.value)
    assert "equinix:authToken" in str(caught.value)
    assert "auth_token" in str(caught.value)
    assert calls(emulator) == []

    # A stack created with a token keeps working without one while nothing rotates.
    bare.up({"email": EMAIL, "auth_token": "metal-emulator-dev-token"})
    emulator.reset_journal()
    assert bare.up({"email": EMAIL}) == "same"
    assert bare.up({"email": EMAIL, "rotate_every": "1h"}) == "update"
    with pytest.raises(ConfigurationError):
        bare.up({"email": EMAIL, "rotate_every": "1h", "rotation_triggers": {"t": "x"}})
    assert calls(emulator) == []


def test_resource_token_input_overrides_config(emulator: Emulator) -> None:
    wrong = Deployment(
        make_provider({"equinix:endpoint": emulator.url, "equinix:authToken": "not-valid"})
    )
    with pytest.raises(UnauthorizedError, match="the stack config equinix:authToken"):
        wrong.up({"email": EMAIL})
    assert wrong.up({"email": EMAIL, "auth_token": "metal-emulator-dev-token"}) == "create"


def test_failed_rotation_leaves_state_for_a_retry(
    deployment: Deployment, emulator: Emulator
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
    deployment: Deployment, emulator: Emulator
) -> None:
    emulator.faults.set(script=("ok", "500"))
    with pytest.raises(RotationAfterCreateError) as caught:
        deployment.up({"email": EMAIL, "rotate_on_create": True})
    message = str(caught.value)
    assert f"mailed to {EMAIL}" in message
    assert "(AmbiguousServer, HTTP 500: the password may already have been reset)" in message
    assert message.endswith("so the next `pulumi up` mails a new token and rotates again.")
    assert "half-done change" in message
    assert message.count(". ") == 0  # one sentence, with no advice from the inner error
    assert calls(emulator) == ["POST", "DELETE"]


def test_read_keeps_state_and_delete_makes_no_call(
    deployment: Deployment, emulator: Emulator
) -> None:
    deployment.up({"email": EMAIL, "rotate_on_create": True})
    emulator.reset_journal()
    read = deployment.provider.read(str(deployment.id), dict(deployment.outputs))
    assert read.id == deployment.id
    assert read.outs == deployment.outputs
    deployment.provider.delete(str(deployment.id), dict(deployment.outputs))
    assert calls(emulator) == []


def test_invalid_config_fails_when_a_call_needs_it(emulator: Emulator) -> None:
    broken = Deployment(
        make_provider(
            {
                "equinix:endpoint": emulator.url,
                "equinix:authToken": "metal-emulator-dev-token",
                "equinix:requestTimeout": "soon",
            }
        )
    )
    checked = broken.check({"email": EMAIL})
    with pytest.raises(ConfigurationError, match="The stack config equinix:requestTimeout"):
        broken.provider.create(checked)
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


def test_one_provider_serves_four_threads(provider: PasswordResetTokenProvider) -> None:
    """The server calls one cached instance from up to four threads at once."""
    from concurrent.futures import ThreadPoolExecutor

    def lifecycle(n: int) -> Any:
        run = Deployment(provider)
        run.up({"email": f"user{n}@example.com", "rotate_on_create": True})
        run.up({"email": f"user{n}@example.com", "rotation_triggers": {"n": str(n)}})
        return run.outputs

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lifecycle, range(16)))
    passwords = [r["new_password"] for r in results]
    assert all(r["rotation_count"] == 2 for r in results)
    assert len(set(passwords)) == len(passwords)


def test_sdk_unknown_objects_are_accepted(deployment: Deployment) -> None:
    """The server deserializes preview unknowns as `pulumi.output.Unknown`, not the string."""
    from pulumi.output import Unknown

    deployment.up({"email": EMAIL})
    result = deployment.provider.check(
        dict(deployment.inputs),
        {"email": Unknown(), "rotation_triggers": {"t": Unknown()}},  # type: ignore[no-untyped-call]
    )
    assert result.failures == []
    assert result.inputs["email"] == UNKNOWN
    diff = deployment.provider.diff(
        str(deployment.id),
        dict(deployment.outputs),
        {"email": Unknown(), "rotation_slot": None},  # type: ignore[no-untyped-call]
    )
    assert diff.changes is True
    assert diff.replaces == ["email"]

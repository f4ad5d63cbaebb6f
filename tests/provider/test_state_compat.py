"""A state written by release 0.1.0 loads and keeps working: the wire format did not change.

`data/state-0.1.0.json` was written by the 0.1.0 provider (commit 29edf09) through the test
engine against the emulator; `data/make_state_0_1_0.py` says how, and which placeholders stand for
the password, the token and the port. Its three resources cover a schedule with triggers and two
rotations, a plain token with an internationalised domain, and a token and endpoint given as
inputs with a period given in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pulumi_metal_reset import provider as provider_module
from pulumi_metal_reset import schedule
from pulumi_metal_reset.credentials import credential_id
from pulumi_metal_reset.emulator import DEV_TOKEN, Emulator
from pulumi_metal_reset.provider import PasswordResetTokenProvider
from pulumi_metal_reset.state import CheckedInputs, Outputs
from tests.wire import is_wrapped_secret

from .conftest import make_provider

STATE = Path(__file__).resolve().parent / "data" / "state-0.1.0.json"
FIXTURE_TOKEN = "fixture-token-not-a-secret"

#: What the 0.1.0 program registered for each resource (data/make_state_0_1_0.py).
PROGRAM_INPUTS: dict[str, dict[str, Any]] = {
    "scheduled": {
        "email": "Ops+Metal@EXAMPLE.com",
        "rotate_every": "30d",
        "rotation_triggers": {"ticket": "SEC-2", "owner": "platform"},
        "rotate_on_create": True,
    },
    "plain": {"email": "plain@bücher.example"},
    "with-token": {
        "email": "ops@example.com",
        "rotate_every": 3600.0,
        "auth_token": FIXTURE_TOKEN,
        "api_url": "http://127.0.0.1:18787/metal/v1",
    },
}


def _plain(value: Any) -> Any:
    """Secrets stripped, as the engine sends values to a provider that does not accept them."""
    if is_wrapped_secret(value):
        return _plain(value["value"])
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _resources() -> dict[str, dict[str, Any]]:
    state = json.loads(STATE.read_text(encoding="utf-8"))
    return {
        r["urn"].split("::")[-1]: {"inputs": _plain(r["inputs"]), "outputs": _plain(r["outputs"])}
        for r in state["resources"]
        if r["type"] == "pulumi-python:dynamic/metal:PasswordResetToken"
    }


RESOURCES = _resources()


def _without(props: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in keys}


def test_the_fixture_is_what_0_1_0_wrote() -> None:
    assert sorted(RESOURCES) == ["plain", "scheduled", "with-token"]
    scheduled = RESOURCES["scheduled"]["outputs"]
    assert scheduled["rotation_count"] == 2.0
    assert scheduled["new_password"] == "fixture-password-not-a-secret"
    assert "credential_id" not in scheduled  # added after 0.1.0
    assert "schedule_note" not in scheduled


def _known(props: dict[str, Any]) -> dict[str, Any]:
    """What reaches the wire: Pulumi's Struct drops null values."""
    return {k: v for k, v in props.items() if v is not None}


#: The values added since 0.1.0 that are not null when absent: what 0.1.0 did (it kept the
#: password in state) and an empty rotation ledger.
ADDED_DEFAULTS = {"store_password": True, "rotation_history": []}


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_old_outputs_read_back_to_the_same_wire_values(name: str) -> None:
    outputs = RESOURCES[name]["outputs"]
    wire = Outputs.from_wire(outputs).to_wire()
    # Every value 0.1.0 wrote comes back (2.0 and 2 are one number on the wire); whatever it
    # left out is null, which the wire drops, including the outputs added since (but two).
    assert _known(wire) == _without(outputs, "__provider") | ADDED_DEFAULTS
    assert {"credential_id", "schedule_note"} <= set(wire) - set(_known(wire))


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_old_inputs_read_back_to_the_same_wire_values(name: str) -> None:
    inputs = RESOURCES[name]["inputs"]
    wire = CheckedInputs.from_wire(inputs).to_wire()
    assert _known(wire) == _without(inputs, "__provider") | {"store_password": True}


@pytest.fixture
def provider(metal_emulator: Emulator) -> PasswordResetTokenProvider:
    return make_provider({"equinix:endpoint": metal_emulator.url, "equinix:authToken": DEV_TOKEN})


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_the_next_run_on_an_old_state_records_credential_id_and_calls_nothing(
    name: str,
    provider: PasswordResetTokenProvider,
    metal_emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ten minutes after 0.1.0's run, with the program unchanged: the old grid is kept, no
    rotation is due, and the one change is the new `credential_id`, recorded with no API call."""
    old_inputs, old_outputs = RESOURCES[name]["inputs"], RESOURCES[name]["outputs"]
    written = schedule.parse_timestamp(old_outputs["requested_at"])
    monkeypatch.setattr(provider_module, "_now", lambda: written + 600)

    result = provider.check(old_inputs, PROGRAM_INPUTS[name] | {"__provider": "blob"})
    assert result.failures == []
    checked = result.inputs
    token = FIXTURE_TOKEN if name == "with-token" else DEV_TOKEN
    assert checked["credential_id"] == credential_id(token)
    assert _known(_without(checked, "credential_id")) == _without(old_inputs, "__provider")

    diff = provider.diff("id", old_outputs, checked)
    assert (diff.changes, diff.replaces) == (True, [])
    updated = provider.update("id", old_outputs, checked).outs or {}
    assert metal_emulator.journal == []
    assert updated["credential_id"] == credential_id(token)
    assert _known(updated) == _without(old_outputs, "__provider") | ADDED_DEFAULTS | {
        "credential_id": credential_id(token)
    }
    assert type(updated["rotation_count"]) is int

    again = provider.check(checked, PROGRAM_INPUTS[name])
    assert again.inputs == checked
    assert provider.diff("id", updated, again.inputs).changes is False

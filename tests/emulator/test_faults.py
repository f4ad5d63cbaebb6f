"""Every fault mode, set through the Python object and through the control API."""

from __future__ import annotations

import http.client
import json
import random
import time
from typing import Any

import pytest
import requests
from pydantic import ValidationError

from pulumi_metal_reset.emulator import DEV_USER, Emulator, FaultConfig, FaultConfigError

from .support import Client, StrictNewPassword, error_body, new_password


@pytest.mark.parametrize("status", [500, 502, 503])
def test_rate_one_answers_every_api_request_with_the_status_and_applies_nothing(
    metal_emulator: Emulator, client: Client, status: int
) -> None:
    metal_emulator.faults.set(rate=1.0, status=status)
    for _ in range(3):
        reply = client.delete()
        error_body(reply, status)
        assert "Retry-After" not in reply.headers
    error_body(client.post("email=a%40x.io"), status)
    assert metal_emulator.password_of(DEV_USER) is None
    assert [e.outcome for e in metal_emulator.journal] == [str(status)] * 4
    assert not any(e.applied for e in metal_emulator.journal)


def test_429_carries_the_configured_retry_after(metal_emulator: Emulator, client: Client) -> None:
    metal_emulator.faults.set(rate=1.0, status=429, retry_after=7)
    reply = client.delete()
    error_body(reply, 429)
    assert reply.headers["Retry-After"] == "7"
    metal_emulator.faults.update(retry_after=0)
    assert client.delete().headers["Retry-After"] == "0"


def test_the_default_retry_after_is_one_second(metal_emulator: Emulator, client: Client) -> None:
    metal_emulator.faults.set(script=["429"])
    assert client.delete().headers["Retry-After"] == "1"


def _statuses(client: Client, count: int) -> list[int]:
    return [client.delete().status for _ in range(count)]


def test_a_fault_rate_follows_the_seeded_rng(metal_emulator: Emulator, client: Client) -> None:
    metal_emulator.faults.set(rate=0.3, status=503, seed=42)
    first = _statuses(client, 60)
    rng = random.Random(42)
    assert first == [503 if rng.random() < 0.3 else 201 for _ in range(60)]
    assert 5 < first.count(503) < 35  # a rate, not all-or-nothing
    metal_emulator.faults.set(rate=0.3, status=503, seed=42)
    assert _statuses(client, 60) == first  # setting again restarts the sequence
    metal_emulator.faults.set(rate=0.3, status=503, seed=7)
    assert _statuses(client, 60) != first


def test_a_script_is_consumed_one_item_per_api_request(
    metal_emulator: Emulator, client: Client
) -> None:
    metal_emulator.faults.set(script=["429", "503", "ok", "500", "502"])
    assert list(metal_emulator.faults.script_remaining) == ["429", "503", "ok", "500", "502"]
    error_body(client.delete(), 429)
    error_body(client.post("email=a%40x.io"), 503)
    new_password(client.delete())
    assert list(metal_emulator.faults.script_remaining) == ["500", "502"]
    error_body(client.delete(), 500)
    error_body(client.delete(), 502)
    assert list(metal_emulator.faults.script_remaining) == []
    new_password(client.delete())  # nothing left: back to normal


def test_ok_in_a_script_overrides_the_standing_modes(
    metal_emulator: Emulator, client: Client
) -> None:
    metal_emulator.faults.set(script=["ok"], drop_after_apply=True, rate=1.0)
    new_password(client.delete())
    error_body(client.delete(), 503)  # script used up: the rate applies again


def test_404_and_405_do_not_consume_the_script(metal_emulator: Emulator, client: Client) -> None:
    metal_emulator.faults.set(script=["503"])
    error_body(client.request("GET", client.base + "/reset-password"), 405)
    error_body(client.request("DELETE", "/elsewhere"), 404)
    assert metal_emulator.faults.script_remaining == ("503",)


def test_latency_delays_api_requests(metal_emulator: Emulator, client: Client) -> None:
    metal_emulator.faults.set(latency_ms=150)
    started = time.perf_counter()
    new_password(client.delete())
    assert time.perf_counter() - started >= 0.15
    assert metal_emulator.journal[-1].elapsed_ms >= 150


def test_drop_after_apply_rotates_then_closes_without_an_answer(
    metal_emulator: Emulator, client: Client
) -> None:
    metal_emulator.faults.set(drop_after_apply=True)
    with pytest.raises(http.client.RemoteDisconnected):
        client.delete()
    password = metal_emulator.password_of(DEV_USER)
    assert password is not None  # applied: the ambiguous failure
    [entry] = metal_emulator.journal
    assert (entry.status, entry.outcome, entry.applied) == (None, "drop", True)


def test_drop_after_apply_with_requests_is_a_connection_error(metal_emulator: Emulator) -> None:
    metal_emulator.faults.set(script=["drop"])
    with requests.Session() as session, pytest.raises(requests.ConnectionError):
        session.post(
            metal_emulator.url + "/reset-password",
            params={"email": "a@x.io"},
            headers={"X-Auth-Token": metal_emulator.token_for_user(DEV_USER)},
            timeout=5,
        )
    assert metal_emulator.journal[-1].applied


def test_drop_and_malformed_spare_requests_that_fail(
    metal_emulator: Emulator, client: Client
) -> None:
    metal_emulator.faults.set(script=["drop", "truncated"])
    error_body(client.delete(token="wrong"), 401)
    error_body(client.post("email=bad"), 422)
    assert list(metal_emulator.faults.script_remaining) == []
    assert [e.outcome for e in metal_emulator.journal] == ["ok", "ok"]


def test_malformed_not_json(metal_emulator: Emulator, client: Client) -> None:
    metal_emulator.faults.set(malformed="not-json")
    reply = client.delete()
    assert reply.status == 201
    with pytest.raises(json.JSONDecodeError):
        reply.json()
    password = metal_emulator.password_of(DEV_USER)
    assert password is not None
    assert password.encode() not in reply.body
    assert metal_emulator.journal[-1].outcome == "not-json"


def test_malformed_missing_field(metal_emulator: Emulator, client: Client) -> None:
    metal_emulator.faults.set(malformed="missing-field")
    reply = client.delete()
    assert reply.status == 201
    assert isinstance(reply.json(), dict)
    with pytest.raises(ValidationError):
        StrictNewPassword.model_validate_json(reply.body)
    password = metal_emulator.password_of(DEV_USER)
    assert password is not None
    assert password.encode() not in reply.body


def test_malformed_truncated_contains_the_real_password(
    metal_emulator: Emulator, client: Client
) -> None:
    """The documented leak mode: clients must never echo a body they cannot parse."""
    metal_emulator.faults.set(script=["truncated"])
    reply = client.delete()
    assert reply.status == 201
    with pytest.raises(json.JSONDecodeError):
        reply.json()
    password = metal_emulator.password_of(DEV_USER)
    assert password is not None
    assert password.encode() in reply.body
    new_password(client.delete())  # framing intact: Content-Length matched the short body


def test_malformed_post_gets_a_body_where_none_belongs(
    metal_emulator: Emulator, client: Client
) -> None:
    metal_emulator.faults.set(malformed="truncated")
    reply = client.post("email=a%40x.io")
    assert reply.status == 201
    assert reply.body
    with pytest.raises(json.JSONDecodeError):
        reply.json()


def test_faults_never_touch_the_control_api(metal_emulator: Emulator, client: Client) -> None:
    metal_emulator.faults.set(rate=1.0, status=503, latency_ms=500, drop_after_apply=True)
    started = time.perf_counter()
    assert client.control("GET", "faults").status == 200
    assert client.control("GET", "journal").status == 200
    assert time.perf_counter() - started < 0.4
    assert list(metal_emulator.faults.script_remaining) == []


# --- the control API ---------------------------------------------------------------------------


def test_control_get_shows_the_configuration_and_what_is_left(
    metal_emulator: Emulator, client: Client
) -> None:
    metal_emulator.faults.set(script=["429", "ok"], latency_ms=5)
    client.delete()
    reply = client.control("GET", "faults")
    assert reply.status == 200
    assert reply.content_type == "application/json"
    assert reply.json() == {
        "rate": 0.0,
        "status": 503,
        "retry_after": 1,
        "latency_ms": 5,
        "script": ["429", "ok"],
        "drop_after_apply": False,
        "malformed": None,
        "seed": 0,
        "script_remaining": ["ok"],
    }


def test_control_put_replaces_and_patch_changes_fields(
    metal_emulator: Emulator, client: Client
) -> None:
    reply = client.control("PUT", "faults", {"rate": 1, "status": 429, "retry_after": 3})
    assert reply.status == 200
    assert metal_emulator.faults.config == FaultConfig(rate=1, status=429, retry_after=3)
    assert client.delete().headers["Retry-After"] == "3"
    reply = client.control("PATCH", "faults", {"retry_after": 9})
    assert reply.json()["status"] == 429
    assert reply.json()["retry_after"] == 9
    reply = client.control("PUT", "faults", {"script": [503, "ok"]})
    assert metal_emulator.faults.config == FaultConfig(script=("503", "ok"))
    error_body(client.delete(), 503)
    new_password(client.delete())


def test_what_control_get_shows_can_be_put_back(metal_emulator: Emulator, client: Client) -> None:
    """Save and restore: GET adds the read-only `script_remaining`, which PUT passes over."""
    metal_emulator.faults.set(script=["429", "ok"], retry_after=4)
    saved = client.control("GET", "faults").json()
    metal_emulator.faults.set(rate=1.0)

    reply = client.control("PUT", "faults", saved)

    assert reply.status == 200
    assert metal_emulator.faults.config == FaultConfig(script=("429", "ok"), retry_after=4)


def test_control_delete_clears_every_fault(metal_emulator: Emulator, client: Client) -> None:
    metal_emulator.faults.set(rate=1.0, script=["drop"], malformed="truncated")
    reply = client.control("DELETE", "faults")
    assert reply.status == 200
    assert metal_emulator.faults.config == FaultConfig()
    new_password(client.delete())


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"rate": 1.5}, "rate must be a number from 0 to 1"),
        ({"rate": True}, "rate must be a number from 0 to 1"),
        ({"status": 404}, "status must be one of 429, 500, 502, 503"),
        ({"retry_after": -1}, "retry_after must be a whole number of seconds, 0 or more"),
        ({"latency_ms": 10**6}, "latency_ms must be a number from 0 to 60000"),
        ({"script": "429"}, "script must be a list of outcomes"),
        ({"script": ["teapot"]}, "script has unknown outcomes ['teapot']"),
        ({"drop_after_apply": "yes"}, "drop_after_apply must be true or false"),
        ({"malformed": "weird"}, "malformed must be null or one of"),
        ({"seed": "x"}, "seed must be a whole number"),
        ({"colour": "red"}, "unknown field 'colour'"),
        ([1, 2], "the body must be a JSON object"),
    ],
)
def test_control_refuses_invalid_settings_with_422(
    metal_emulator: Emulator, client: Client, payload: Any, problem: str
) -> None:
    metal_emulator.faults.set(latency_ms=1)
    body = error_body(client.control("PUT", "faults", payload), 422)
    assert body.errors is not None
    assert any(problem in message for message in body.errors), body.errors
    assert metal_emulator.faults.config == FaultConfig(latency_ms=1)  # unchanged


def test_control_refuses_a_body_that_is_not_json(client: Client) -> None:
    reply = client.request("PUT", "/_emulator/faults", body=b"{not json")
    assert error_body(reply, 422).errors == ["the body is not valid JSON"]


@pytest.mark.parametrize(
    ("method", "route", "status"),
    [
        ("POST", "faults", 405),
        ("PUT", "journal", 405),
        ("GET", "passwords", 404),
        ("GET", "", 404),
    ],
)
def test_control_unknown_routes_and_methods(
    client: Client, method: str, route: str, status: int
) -> None:
    reply = client.control(method, route)
    error_body(reply, status)
    if status == 405:
        assert "GET" in reply.headers["Allow"]


# --- the Python object -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"rate": -0.1},
        {"status": 418},
        {"retry_after": 1.5},
        {"latency_ms": -1},
        {"script": ("ok", "boom")},
        {"malformed": "html"},
        {"seed": None},
    ],
)
def test_invalid_python_settings_raise_and_change_nothing(
    metal_emulator: Emulator, changes: dict[str, Any]
) -> None:
    with pytest.raises(FaultConfigError):
        metal_emulator.faults.update(**changes)
    with pytest.raises(ValueError, match="invalid fault configuration"):
        FaultConfig(**changes)
    assert metal_emulator.faults.config == FaultConfig()


def test_set_takes_a_config_or_fields_but_not_both(metal_emulator: Emulator) -> None:
    config = FaultConfig(latency_ms=3)
    assert metal_emulator.faults.set(config) is config
    with pytest.raises(TypeError):
        metal_emulator.faults.set(config, rate=0.5)
    assert metal_emulator.faults.clear() == FaultConfig()


def test_faults_given_at_construction_apply_from_the_first_request() -> None:
    with Emulator(faults=FaultConfig(script=("502",))) as emu, Client(emu.url) as client:
        error_body(client.delete(), 502)
        new_password(client.delete())

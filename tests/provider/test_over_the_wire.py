"""Issue 8 §2, §3, §4 and §8 through the real `python -u -m pulumi.dynamic` server over gRPC.

Real: the SDK's dynamic-provider server in a child process, protobuf Structs on the wire, the
provider blob as `serialize_provider` makes it for every registration, Debian's libfaketime
moving the whole provider process's clock (no clock hook in the product), HTTP to the emulator.
Stood in for: the Go engine that sends these requests, shaped as it shapes them (secrets
stripped, olds = old inputs for Check and old outputs for Diff and Update).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2

from pulumi_metal_reset import schedule
from pulumi_metal_reset.emulator import DEV_TOKEN, Emulator
from pulumi_metal_reset.provider import PasswordResetTokenProvider
from pulumi_metal_reset.testing.faketime import faketime_env
from pulumi_metal_reset.testing.provider_server import ProviderServer
from tests.pulumi_versions import provider_error_tail
from tests.wire import plain, struct

pytestmark = pytest.mark.protocol

URN = "urn:pulumi:dev::wire::pulumi-python:dynamic/metal:PasswordResetToken::ops"
BLOB = serialize_provider(PasswordResetTokenProvider())
DAY = 86400


class Wire:
    """One provider server, configured, with the calls the engine makes."""

    def __init__(self, server: ProviderServer, config: Mapping[str, str]) -> None:
        self.server = server
        server.stub.Configure(provider_pb2.ConfigureRequest(args=struct(config)))

    def check(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Any:
        return self.server.stub.Check(
            provider_pb2.CheckRequest(
                urn=URN, olds=struct(olds), news=struct(dict(news) | {"__provider": BLOB})
            )
        )

    def checked(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        answer = self.check(olds, news)
        assert list(answer.failures) == []
        return plain(answer.inputs)

    def create(self, checked: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        answer = self.server.stub.Create(
            provider_pb2.CreateRequest(urn=URN, properties=struct(checked))
        )
        return answer.id, plain(answer.properties)

    def diff(self, id_: str, outs: Mapping[str, Any], checked: Mapping[str, Any]) -> Any:
        return self.server.stub.Diff(
            provider_pb2.DiffRequest(id=id_, urn=URN, olds=struct(outs), news=struct(checked))
        )

    def update(
        self, id_: str, outs: Mapping[str, Any], checked: Mapping[str, Any]
    ) -> dict[str, Any]:
        answer = self.server.stub.Update(
            provider_pb2.UpdateRequest(id=id_, urn=URN, olds=struct(outs), news=struct(checked))
        )
        return plain(answer.properties)


@pytest.fixture
def config(metal_emulator: Emulator) -> dict[str, str]:
    return {"equinix:endpoint": metal_emulator.url, "equinix:authToken": DEV_TOKEN}


@pytest.fixture
def wire(tmp_path: Path, config: dict[str, str]) -> Iterator[Wire]:
    with ProviderServer(tmp_path, project="wire") as server:
        yield Wire(server, config)


# -- §3: check failures never print a secret --------------------------------------------------

PLANTED = ("s3cret-trigger", "s3cret-token", "s3cret-url", "s3cret-other")


def printed(news: Mapping[str, Any], failure: Any) -> str:
    """What the CLI prints for a failure (step_generator.go, issueCheckFailures): the named
    property's value as given, then the reason; the reason alone for an unnamed one."""
    if failure.property:
        value = news.get(failure.property)
        return f"property {failure.property} value {value} has a problem: {failure.reason}"
    return f"has a problem: {failure.reason}"


@pytest.mark.parametrize(
    ("news", "path"),
    [
        ({"rotation_triggers": {"hash": PLANTED[0], "ver": 3}}, 'rotation_triggers["ver"]: '),
        ({"rotation_triggers": {"hash": PLANTED[0], "on": True}}, 'rotation_triggers["on"]: '),
        ({"rotation_triggers": PLANTED[0]}, "rotation_triggers: "),
        ({"auth_token": [PLANTED[1]]}, "auth_token: "),
        ({"auth_token": {"value": PLANTED[1]}}, "auth_token: "),
        ({"api_url": f"https://ops:{PLANTED[2]}@api.example.com"}, "api_url: "),
        ({"api_url": f"ftp://{PLANTED[2]}.example.com"}, "api_url: "),
        ({"api_url": f"http://{PLANTED[2]}.example.com"}, "api_url: "),
        ({"api_url": [PLANTED[2]]}, "api_url: "),
    ],
)
def test_a_check_failure_never_prints_a_planted_secret(
    wire: Wire, news: dict[str, Any], path: str
) -> None:
    """Each invalid value sits beside secrets in the same and in other properties."""
    full = {
        "email": "ops@example.com",
        "rotation_triggers": {"hash": PLANTED[0]},
        "auth_token": PLANTED[1],
    } | news
    answer = wire.check({}, full)
    failures = list(answer.failures)
    assert len(failures) == 1, failures
    (failure,) = failures
    assert failure.property == ""
    assert failure.reason.startswith(path)
    text = printed(full, failure)
    for secret in PLANTED:
        assert secret not in text


def test_a_named_failure_is_only_on_a_value_that_holds_no_secret(wire: Wire) -> None:
    full = {
        "email": "not an email",
        "rotate_every": "P1M",
        "rotate_on_create": "yes",
        "rotation_triggers": {"hash": PLANTED[0], "ver": 3},
        "auth_token": PLANTED[1],
        "api_url": f"https://u:{PLANTED[2]}@x.io",
    }
    failures = list(wire.check({}, full).failures)
    assert sorted(f.property for f in failures) == [
        "",
        "",
        "email",
        "rotate_every",
        "rotate_on_create",
    ]
    text = "\n".join(printed(full, f) for f in failures)
    for secret in PLANTED:
        assert secret not in text


# -- §2: check is deterministic within a granule --------------------------------------------


def check_at(tmp_path: Path, config: Mapping[str, str], when: str, news: Any) -> Any:
    """Check in a provider process whose clock stands still at `when` (libfaketime's absolute
    form without "@" freezes the clock), so a slow machine cannot cross a boundary. libfaketime
    reads `when` in local time, so the process runs in UTC."""
    env = faketime_env(when) | {"TZ": "UTC"}
    with ProviderServer(tmp_path, project="wire", env=env) as server:
        return Wire(server, config).checked({}, news)


@pytest.mark.faketime
def test_two_checks_within_a_granule_are_identical(tmp_path: Path, config: dict[str, str]) -> None:
    """Update plans compare checked inputs exactly (plan.go, checkGoal -> checkDiff): a create
    previewed at 00:00:05 and applied at 23:59:50 the same UTC day must check alike."""
    news = {"email": "ops@example.com", "rotate_every": "30d", "rotation_triggers": {"t": "1"}}
    morning = check_at(tmp_path, config, "2026-03-01 00:00:05", news)
    evening = check_at(tmp_path, config, "2026-03-01 23:59:50", news)
    assert morning == evening
    assert morning["rotation_slot"] == "2026-03-01T00:00:00Z"
    hourly = news | {"rotate_every": "12h"}
    assert check_at(tmp_path, config, "2026-03-01 10:00:01", hourly) == check_at(
        tmp_path, config, "2026-03-01 10:59:58", hourly
    )
    # Across the granule's boundary the slot moves: with a saved plan, `up` fails instead.
    next_day = check_at(tmp_path, config, "2026-03-02 00:00:05", news)
    assert next_day["rotation_slot"] == "2026-03-02T00:00:00Z"


# -- §4: a slot recorded far in the future is re-anchored -------------------------------------


@pytest.mark.faketime
def test_a_run_with_the_clock_years_ahead_does_not_freeze_the_schedule(
    tmp_path: Path, config: dict[str, str], metal_emulator: Emulator
) -> None:
    news = {"email": "ops@example.com", "rotate_every": "1d"}
    with ProviderServer(tmp_path, project="wire", env=faketime_env("+3650d")) as ahead:
        future = Wire(ahead, config)
        first = future.checked({}, news)
        id_, outs = future.create(first)
    metal_emulator.reset_journal()
    with ProviderServer(tmp_path, project="wire") as today:
        now = Wire(today, config)
        second = now.checked(first, news)
        diff = now.diff(id_, outs, second)
        updated = now.update(id_, outs, second)
        stderr = today.output()
    recorded = schedule.parse_timestamp(first["rotation_slot"])
    slot = schedule.parse_timestamp(second["rotation_slot"])
    assert slot < recorded - 3000 * DAY  # back on today's grid, not ten years ahead
    assert slot % DAY == 0
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert metal_emulator.journal == []  # re-anchoring rotates nothing
    note = updated["schedule_note"]
    assert first["rotation_slot"] in note
    assert second["rotation_slot"] in note
    assert updated["next_rotation_at"] == schedule.format_timestamp(slot + DAY)
    assert "warning: " + note in stderr  # pulumi.log.warn goes to the provider's stderr


# -- §8: `pulumi import` cannot reach a dynamic provider ---------------------------------------


def test_the_engines_import_read_fails_in_the_sdk_before_the_provider(wire: Wire) -> None:
    """`pulumi import` sends Read with an id and no inputs or state; the SDK's server looks up
    `__provider` in them (pulumi/dynamic/__main__.py, Read -> get_provider) and fails first."""
    with pytest.raises(grpc.RpcError) as caught:
        wire.server.stub.Read(provider_pb2.ReadRequest(id="some-id", urn=URN))
    error: Any = caught.value
    details: str = error.details()
    assert details.rstrip().endswith(provider_error_tail("KeyError", "'__provider'"))
    assert "get_provider" in details
    assert "pulumi_metal_reset" not in details

"""PasswordResetTokenProvider over the raw provider protocol: each gRPC call the engine makes,
sent by hand, so each answer can be checked on its own.

Real: `python -u -m pulumi.dynamic` in a child process (port read from its first stdout line,
PULUMI_PROJECT set), the SDK's own ResourceProvider stubs, protobuf Structs on the wire, the
serialized provider taken from a real `PasswordResetToken` registration, HTTP to the emulator.
Stood in for: the Go engine that would send these requests. Requests are shaped as the engine's
provider plugin shapes them for a dynamic provider (which answers acceptSecrets=false): secrets
stripped, olds = old inputs for Check, old outputs for Diff and Update.
(tests/engine/test_provider_process.py checks how the process itself is started and stopped.)
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2

from pulumi_metal_reset import schedule
from pulumi_metal_reset.emulator import DEV_TOKEN, DEV_USER, Emulator
from pulumi_metal_reset.testing.faketime import faketime_env
from pulumi_metal_reset.testing.provider_server import ProviderServer
from pulumi_metal_reset.unknowns import UNKNOWN_SENTINEL
from tests.pulumi_versions import provider_error_message
from tests.wire import is_wrapped_secret, plain, secret, struct

from .registration import registered_inputs

pytestmark = pytest.mark.protocol

URN = "urn:pulumi:dev::proto::pulumi-python:dynamic/metal:PasswordResetToken::ops"
EMAIL = "ops@example.com"


@pytest.fixture(scope="module")
def blob() -> str:
    """`__provider` exactly as a real PasswordResetToken registration sends it."""
    inputs = registered_inputs()
    assert inputs["email"] == EMAIL
    wrapped = inputs["__provider"]
    assert is_wrapped_secret(wrapped)  # secret by default; the engine strips it
    return str(wrapped["value"])


#: A second API user: the module's server is one provider process, which rotates each user once.
OTHER_TOKEN, OTHER_USER = "tok-other", "other"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator({DEV_TOKEN: DEV_USER, OTHER_TOKEN: OTHER_USER}) as running:
        yield running


def configure(server: ProviderServer, config: dict[str, Any]) -> Any:
    return server.stub.Configure(
        provider_pb2.ConfigureRequest(args=struct(config), acceptSecrets=True)
    )


@pytest.fixture(scope="module")
def server(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with ProviderServer(tmp_path_factory.mktemp("proto"), project="proto") as running:
        answer = configure(
            running,
            {
                "equinix:endpoint": emulator.url,
                "equinix:authToken": secret(DEV_TOKEN),
                "equinix:maxRetryWaitSeconds": "0.05",
                "equinix:requestTimeout": "5",
            },
        )
        assert answer.acceptSecrets is False
        yield running


@pytest.fixture(autouse=True)
def _fresh_journal(emulator: Emulator) -> None:
    emulator.reset_journal()
    emulator.faults.clear()


def check(server: ProviderServer, blob: str, olds: dict[str, Any], news: dict[str, Any]) -> Any:
    return server.stub.Check(
        provider_pb2.CheckRequest(
            urn=URN, olds=struct(olds), news=struct(news | {"__provider": blob})
        )
    )


def create(server: ProviderServer, blob: str, news: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    checked = plain(check(server, blob, {}, news).inputs)
    answer = server.stub.Create(provider_pb2.CreateRequest(urn=URN, properties=struct(checked)))
    return answer.id, plain(answer.properties)


def test_check_normalises_and_derives_the_slot(server: ProviderServer, blob: str) -> None:
    answer = check(server, blob, {}, {"email": "Ops@EXAMPLE.com", "rotate_every": "30d"})
    assert list(answer.failures) == []
    checked = plain(answer.inputs)
    assert checked["email"] == "Ops@example.com"
    assert checked["rotate_every"] == "P30D"
    assert checked["rotation_slot"].endswith("Z")
    assert checked["__provider"] == blob


def test_check_accepts_unknowns_and_names_failing_properties(
    server: ProviderServer, blob: str
) -> None:
    unknown = check(
        server, blob, {}, {"email": UNKNOWN_SENTINEL, "rotation_triggers": {"t": UNKNOWN_SENTINEL}}
    )
    assert list(unknown.failures) == []
    assert plain(unknown.inputs)["email"] == UNKNOWN_SENTINEL
    failed = check(server, blob, {}, {"email": "nope", "rotate_every": "P1Y", "auth_token": ""})
    reasons = {f.property: f.reason for f in failed.failures}
    assert set(reasons) == {"email", "rotate_every", ""}
    assert "months or years" in reasons["rotate_every"]


def test_create_update_read_delete(server: ProviderServer, blob: str, emulator: Emulator) -> None:
    news = {"email": EMAIL, "rotation_triggers": {"ticket": "SEC-1"}}
    resource_id, outs = create(server, blob, news)
    assert [e.method for e in emulator.journal] == ["POST"]
    assert outs["rotation_count"] == 0

    same = plain(check(server, blob, news, news).inputs)
    diff = server.stub.Diff(
        provider_pb2.DiffRequest(id=resource_id, urn=URN, olds=struct(outs), news=struct(same))
    )
    assert diff.changes == provider_pb2.DiffResponse.DIFF_NONE

    rotated = news | {"rotation_triggers": {"ticket": "SEC-2"}}
    checked = plain(check(server, blob, news, rotated).inputs)
    diff = server.stub.Diff(
        provider_pb2.DiffRequest(id=resource_id, urn=URN, olds=struct(outs), news=struct(checked))
    )
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(diff.replaces) == []
    updated = server.stub.Update(
        provider_pb2.UpdateRequest(id=resource_id, urn=URN, olds=struct(outs), news=struct(checked))
    )
    new_outs = plain(updated.properties)
    assert new_outs["new_password"] == emulator.password_of(DEV_USER)
    assert new_outs["rotation_count"] == 1

    moved = plain(check(server, blob, rotated, rotated | {"email": "x@example.com"}).inputs)
    diff = server.stub.Diff(
        provider_pb2.DiffRequest(id=resource_id, urn=URN, olds=struct(new_outs), news=struct(moved))
    )
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(diff.replaces) == []  # an email change is made in place

    read = server.stub.Read(
        provider_pb2.ReadRequest(id=resource_id, urn=URN, properties=struct(new_outs))
    )
    assert read.id == resource_id
    assert plain(read.properties) == new_outs
    emulator.reset_journal()
    server.stub.Delete(
        provider_pb2.DeleteRequest(id=resource_id, urn=URN, properties=struct(new_outs))
    )
    assert emulator.journal == []


def test_four_concurrent_check_and_create(
    server: ProviderServer, blob: str, emulator: Emulator
) -> None:
    """The server's pool has four threads, all sharing one provider instance and one session."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda n: create(server, blob, {"email": f"u{n}@example.com"}), range(8))
        )
    assert len({resource_id for resource_id, _ in results}) == 8
    assert sorted(e.query["email"][0] for e in emulator.journal) == sorted(
        f"u{n}@example.com" for n in range(8)
    )


def test_provider_error_reaches_the_caller_clean(
    server: ProviderServer, blob: str, emulator: Emulator
) -> None:
    news = {"email": EMAIL, "rotation_triggers": {"t": "1"}, "auth_token": OTHER_TOKEN}
    resource_id, outs = create(server, blob, news)
    checked = plain(check(server, blob, news, news | {"rotation_triggers": {"t": "2"}}).inputs)
    emulator.faults.set(script=("truncated",))
    with pytest.raises(grpc.RpcError) as caught:
        server.stub.Update(
            provider_pb2.UpdateRequest(
                id=resource_id, urn=URN, olds=struct(outs), news=struct(checked)
            )
        )
    error: Any = caught.value
    assert error.code() == grpc.StatusCode.UNKNOWN
    details: str = error.details()
    password = emulator.password_of(OTHER_USER)
    assert password is not None
    assert password not in details
    assert OTHER_TOKEN not in details
    last = provider_error_message(details, "pulumi_metal_reset.errors.AmbiguousResponseError")
    assert "pulumi up" in last
    assert "During handling" not in details


def test_config_secret_never_reaches_an_error(
    emulator: Emulator, blob: str, tmp_path: Path
) -> None:
    wrong = "tok-SECRET-wrong-123"
    with ProviderServer(tmp_path, project="proto") as fresh:
        configure(fresh, {"equinix:endpoint": emulator.url, "equinix:authToken": secret(wrong)})
        with pytest.raises(grpc.RpcError) as caught:
            create(fresh, blob, {"email": EMAIL})
    error: Any = caught.value
    assert wrong not in error.details()
    last = provider_error_message(error.details(), "pulumi_metal_reset.errors.UnauthorizedError")
    assert "the stack config equinix:authToken" in last


@pytest.mark.faketime
def test_a_moved_clock_rotates_once(emulator: Emulator, blob: str, tmp_path: Path) -> None:
    """libfaketime shifts the whole provider process by 31 days; the product has no clock hook.

    Check derives a later slot, Diff says update, Update sends one DELETE.
    """
    config = {"equinix:endpoint": emulator.url, "equinix:authToken": secret(DEV_TOKEN)}
    news = {"email": EMAIL, "rotate_every": "30d"}
    with ProviderServer(tmp_path, project="proto") as now_server:
        configure(now_server, config)
        first = plain(check(now_server, blob, {}, news).inputs)
        created = now_server.stub.Create(
            provider_pb2.CreateRequest(urn=URN, properties=struct(first))
        )
    outs = plain(created.properties)
    emulator.reset_journal()
    with ProviderServer(tmp_path, project="proto", env=faketime_env("+31d")) as later:
        configure(later, config)
        second = plain(check(later, blob, first, news).inputs)
        diff = later.stub.Diff(
            provider_pb2.DiffRequest(id=created.id, urn=URN, olds=struct(outs), news=struct(second))
        )
        assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME
        assert list(diff.replaces) == []
        updated = plain(
            later.stub.Update(
                provider_pb2.UpdateRequest(
                    id=created.id, urn=URN, olds=struct(outs), news=struct(second)
                )
            ).properties
        )
    start = schedule.parse_timestamp(first["rotation_slot"])
    assert schedule.parse_timestamp(second["rotation_slot"]) == start + 30 * 86400
    assert [e.method for e in emulator.journal] == ["DELETE"]
    assert updated["new_password"] == emulator.password_of(DEV_USER)
    assert updated["next_rotation_at"] == schedule.format_timestamp(start + 60 * 86400)

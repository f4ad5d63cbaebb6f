"""The pickled provider (`__provider`): a bare reference with no state, stable for old stacks.

Two facts pinned here:

- Pulumi's `serialize_provider` (Python SDK 3.272, unchanged since 3.259) wraps
  `pickle._Pickler._batch_setitems` once more on every call and never restores it, so each dict
  pickled afterwards recurses through one wrapper per resource registered before it. A provider
  whose pickle holds a dict (0.1.0's held an empty one) fails with RecursionError once a program
  registers about 980 resources. Ours pickles as "call the class", with no dict at all.
- The blob changed with that (0.1.0's ended in an empty dict and BUILD). Stacks written by 0.1.0
  hold the old blob; it must still load to a working provider, and the new blob beside the old
  one must not show as a change.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import textwrap
from pathlib import Path

import dill
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2

from pulumi_metal_reset.emulator import DEV_TOKEN, Emulator
from pulumi_metal_reset.provider import PasswordResetTokenProvider
from pulumi_metal_reset.testing.provider_server import ProviderServer
from tests.wire import plain, struct

# Recorded from version 0.1.0. Every existing stack's state holds this blob: it must keep loading.
STATE_BLOB_0_1_0 = (
    "gASVRAAAAAAAAACMG3B1bHVtaV9tZXRhbF9yZXNldC5wcm92aWRlcpSMGlBhc3N3b3JkUmVzZXRUb2tlblBy"
    "b3ZpZGVylJOUKYGUfZRiLg=="
)
#: What this release pickles: module and class name, no state.
BLOB = (
    "gASVQQAAAAAAAACMG3B1bHVtaV9tZXRhbF9yZXNldC5wcm92aWRlcpSMGlBhc3N3b3JkUmVzZXRUb2tlblByb3ZpZGVy"
    "lJOUKVKULg=="
)


#: More resources than the default recursion limit (1000) lets a dict-holding provider reach.
MANY = 1100

PROGRAM = textwrap.dedent(
    f"""
    import pulumi
    from pulumi.dynamic import ResourceProvider
    from pulumi.dynamic.dynamic import serialize_provider


    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            return args.name + "-id", args.inputs

        def call(self, args):
            return {{}}


    pulumi.runtime.set_mocks(Mocks(), preview=True)
    from pulumi_metal_reset import PasswordResetToken

    # The program: each registration calls serialize_provider, as `pulumi up` does.
    for n in range({MANY}):
        PasswordResetToken(f"token-{{n}}", email=f"user{{n}}@example.com")
    print("registered", n + 1)

    # The control: the wrappers did pile up, so a provider whose pickle holds a dict fails.
    holder = ResourceProvider()
    holder.state = {{"a": 1}}
    try:
        serialize_provider(holder)
    except RecursionError:
        print("a provider with a state dict fails: RecursionError")
    """
)


def test_the_blob_is_a_bare_reference_with_no_state() -> None:
    blob = serialize_provider(PasswordResetTokenProvider())
    assert blob == BLOB
    raw = base64.b64decode(blob)
    assert b"pulumi_metal_reset.provider" in raw
    assert b"PasswordResetTokenProvider" in raw
    assert b"}" not in raw  # no EMPTY_DICT: nothing goes through the pickler's dict path
    assert len(blob) < len(STATE_BLOB_0_1_0)


def test_a_program_registering_many_tokens_serializes_every_one(tmp_path: Path) -> None:
    """1100 `PasswordResetToken`s in one program, under Pulumi's mocks (the constructor calls
    `serialize_provider` synchronously): every registration succeeds where 0.1.0's provider
    failed after about 980, and the control shows the SDK's wrappers really did accumulate."""
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == [
        f"registered {MANY}",
        "a provider with a state dict fails: RecursionError",
    ]


def test_the_0_1_0_blob_loads_to_a_working_provider(metal_emulator: Emulator) -> None:
    loaded = dill.loads(base64.b64decode(STATE_BLOB_0_1_0))  # noqa: S301 (our own constant)
    assert type(loaded) is PasswordResetTokenProvider
    assert vars(loaded) == {}
    loaded.configure(ConfigureRequest(Config({"equinix:endpoint": metal_emulator.url}, "p")))
    checked = loaded.check({}, {"email": "ops@example.com", "auth_token": DEV_TOKEN})
    assert checked.failures == []
    created = loaded.create(checked.inputs)
    assert created.outs is not None
    assert created.outs["email"] == "ops@example.com"
    assert [entry.method for entry in metal_emulator.journal] == ["POST"]
    # A provider loaded from it pickles as this release does.
    assert serialize_provider(loaded) == BLOB


@pytest.mark.protocol
def test_a_stack_written_with_the_old_blob_sees_no_change(
    tmp_path: Path, metal_emulator: Emulator
) -> None:
    """Through the real server: a resource created with 0.1.0's blob, then the next run's
    Check and Diff with this release's blob: no change, no call; Delete with the old blob
    still works. (The CLI also hides `__`-keys from the diff it prints.)"""
    urn = "urn:pulumi:dev::ser::pulumi-python:dynamic/metal:PasswordResetToken::ops"
    news = {"email": "ops@example.com", "rotate_every": "30d"}
    with ProviderServer(tmp_path, project="ser") as server:
        stub = server.stub
        config = {"equinix:endpoint": metal_emulator.url, "equinix:authToken": DEV_TOKEN}
        stub.Configure(provider_pb2.ConfigureRequest(args=struct(config)))

        def check(olds: dict[str, object], blob: str) -> dict[str, object]:
            request = provider_pb2.CheckRequest(
                urn=urn, olds=struct(olds), news=struct(news | {"__provider": blob})
            )
            answer = stub.Check(request)
            assert list(answer.failures) == []
            return plain(answer.inputs)

        old_inputs = check({}, STATE_BLOB_0_1_0)
        created = stub.Create(provider_pb2.CreateRequest(urn=urn, properties=struct(old_inputs)))
        old_outputs = plain(created.properties)
        assert old_outputs["__provider"] == STATE_BLOB_0_1_0

        new_inputs = check(old_inputs, BLOB)
        assert new_inputs["__provider"] == BLOB
        assert {k: v for k, v in new_inputs.items() if k != "__provider"} == {
            k: v for k, v in old_inputs.items() if k != "__provider"
        }
        diff = stub.Diff(
            provider_pb2.DiffRequest(
                id=created.id, urn=urn, olds=struct(old_outputs), news=struct(new_inputs)
            )
        )
        assert diff.changes == provider_pb2.DiffResponse.DIFF_NONE
        stub.Delete(
            provider_pb2.DeleteRequest(id=created.id, urn=urn, properties=struct(old_outputs))
        )
    assert [entry.method for entry in metal_emulator.journal] == ["POST"]

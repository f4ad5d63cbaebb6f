"""The password flows as a secret into a 0600 file through a second dynamic resource.

See conftest for what is real; here the second provider also pickles by reference from a module
beside the program, found because the provider server runs in the program's directory.
"""

from __future__ import annotations

import json
import stat

from pulumi_metal_reset.emulator import DEV_USER
from tests.wire import is_wrapped_secret

from .conftest import StackFactory, assert_ok


def test_password_lands_in_a_private_file(stack_factory: StackFactory) -> None:
    stack = stack_factory("consume-secret")
    target = stack.dir / "out" / "metal.env"
    stack.config["secretFile"] = str(target)

    preview = stack.preview()
    assert_ok(preview)
    assert not target.exists()

    up = stack.up()
    assert_ok(up)
    assert stack.api_calls() == ["POST", "DELETE"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text() == f"METAL_PASSWORD={stack.emulator.password_of(DEV_USER)}\n"
    state = json.loads(stack.state.read_text())
    (file_resource,) = [r for r in state["resources"] if r["type"].endswith("local:SecretFile")]
    assert is_wrapped_secret(file_resource["inputs"]["content"])

    stack.config["rotationTicket"] = "SEC-9"
    rotated = stack.up()
    assert_ok(rotated)
    assert stack.api_calls() == ["DELETE"]
    assert rotated.ops()["metal-file"] == "update"
    assert target.read_text() == f"METAL_PASSWORD={stack.emulator.password_of(DEV_USER)}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

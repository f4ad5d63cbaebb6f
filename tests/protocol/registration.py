"""Capture the inputs a real `PasswordResetToken` registration sends, `__provider` included.

Runs in a child process because `pulumi.runtime.set_mocks` changes process-wide settings.
Under mocks the SDK serializes the provider exactly as for the engine; only the monitor differs.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fresh_python import fresh_python

_SCRIPT = r"""
import json, pulumi
from pulumi_metal_reset import PasswordResetToken

captured = []

class Capture(pulumi.runtime.Mocks):
    def new_resource(self, args):
        captured.append(args.inputs)
        return [args.name + "-id", args.inputs]

    def call(self, args):
        return {}

pulumi.runtime.set_mocks(Capture(), preview=False)

@pulumi.runtime.test
def register():
    token = PasswordResetToken("ops", email="ops@example.com", rotation_triggers={"t": "1"})
    return token.email.apply(lambda _: None)

register()
print(json.dumps(captured))
"""


def registered_inputs() -> dict[str, Any]:
    out = fresh_python(_SCRIPT)
    captured: list[dict[str, Any]] = json.loads(out.strip().splitlines()[-1])
    assert len(captured) == 1
    return captured[0]

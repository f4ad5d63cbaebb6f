"""What the provider process's first calls load: only what those calls need (issue 12).

The dynamic-provider server unpickles the provider (importing its module), configures it, then
runs the first Check and the first Create. Each module they load costs CPU before the first
create and resident memory for the whole run, so the heavy ones that no first call needs are
pinned out here: pydantic's Python layer (validation runs on pydantic-core), the API's body
models (a create that succeeds reads no body) and the delivery models (no `deliver_to`).
"""

from __future__ import annotations

from tests.fresh_python import fresh_python

FIRST_CALLS = """
import base64, sys
import dill
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.dynamic.dynamic import serialize_provider
from pulumi_metal_reset.emulator import DEV_TOKEN, Emulator
from pulumi_metal_reset.provider import PasswordResetTokenProvider

WATCHED = ("pydantic", "pulumi_metal_reset.api_models", "pulumi_metal_reset.delivery.models",
           "requests")
blob = serialize_provider(PasswordResetTokenProvider())
with Emulator() as emu:
    before = [m for m in WATCHED if m in sys.modules]
    provider = dill.loads(base64.b64decode(blob))
    config = {"equinix:endpoint": emu.url, "equinix:authToken": DEV_TOKEN}
    provider.configure(ConfigureRequest(Config(config, "first-calls")))
    checked = provider.check({}, {"email": "ops@example.com", "rotate_every": "30d"})
    assert checked.failures == [], checked.failures
    after_check = [m for m in WATCHED if m in sys.modules]
    provider.create(checked.inputs)
    after_create = [m for m in WATCHED if m in sys.modules]
    assert [entry.method for entry in emu.journal] == ["POST"]
print(before, after_check, after_create)
"""


def test_first_check_and_create_load_no_pydantic_layer_and_no_body_model() -> None:
    """`pydantic` is pydantic's Python layer; the emulator in the same process uses none of it.
    requests loads at the first Create, not before."""
    out = fresh_python(FIRST_CALLS)
    assert out.strip() == "[] [] ['requests']"

"""Which heavy modules a provider process has loaded before and after its first create.

Run by `run.py` in a fresh interpreter, because `sys.modules` of the real provider server cannot
be read from outside. It repeats the server's own path with the SDK's pieces: the imports of
`pulumi.dynamic.__main__`, `dill.loads` of the `__provider` blob (read from stdin), `configure`,
`check`, then one `create` against the emulator whose URL is the first argument. Prints JSON.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from typing import Any

import dill
import grpc  # noqa: F401  (imported by the real server before any provider code runs)
from pulumi.dynamic import Config, ConfigureRequest, ResourceProvider
from pulumi.runtime._serialization import _deserialize
from pulumi.runtime.proto import provider_pb2_grpc  # noqa: F401  (likewise)

#: Modules worth deferring: an HTTP stack, validation, and the official SDK the seed used.
HEAVY = (
    "requests",
    "urllib3",
    "charset_normalizer",
    "idna",
    "certifi",
    "pydantic",
    "email_validator",
    "pulumi_metal_reset.client",
    "equinix_metal",
)


def loaded() -> list[str]:
    return [name for name in HEAVY if name in sys.modules]


def main(url: str, token: str) -> dict[str, Any]:
    blob = sys.stdin.read().strip()
    at_start = loaded()

    def deserialize() -> ResourceProvider:
        provider: ResourceProvider = dill.loads(base64.b64decode(blob))  # noqa: S301  (run.py's blob)
        return provider

    provider = _deserialize(deserialize)
    config = {"equinix:endpoint": url, "equinix:authToken": token}
    provider.configure(ConfigureRequest(Config(raw_config=config, project_name="bench")))
    checked = provider.check({}, {"email": "probe@example.com", "__provider": blob})
    if checked.failures:
        raise SystemExit(f"check failed: {[(f.property, f.reason) for f in checked.failures]}")
    before_create = loaded()
    provider.create(checked.inputs)
    return {
        "at_start": at_start,
        "before_create": before_create,
        "after_create": loaded(),
        # Looked up last: finding a dotted name imports its parent package.
        "installed": [name for name in HEAVY if importlib.util.find_spec(name) is not None],
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))

"""Offline testing helpers: the emulator fixtures and a small Pulumi test engine.

The test engine runs a Pulumi program through the real Python SDK and the real dynamic-provider
server. It is a test harness, never a way to deploy: it keeps state in a plain JSON file.
Names load lazily, so importing the fixtures does not start gRPC. Everything else lives in its
module: ``pulumi_metal_reset.testing.engine`` (``ProjectError``, ``LogEntry``),
``.provider_server`` (``ProviderServer``), ``.faketime`` (``faketime_env``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "TestEngine": "pulumi_metal_reset.testing.engine",
    "RunResult": "pulumi_metal_reset.testing.engine",
    "Step": "pulumi_metal_reset.testing.engine",
    "Secret": "pulumi_metal_reset.testing.engine",
    "UNKNOWN": "pulumi_metal_reset.testing.engine",
    "assert_secret_only": "pulumi_metal_reset.testing.assertions",
}

__all__ = ["UNKNOWN", "RunResult", "Secret", "Step", "TestEngine", "assert_secret_only"]

if TYPE_CHECKING:
    from pulumi_metal_reset.testing.assertions import assert_secret_only
    from pulumi_metal_reset.testing.engine import UNKNOWN, RunResult, Secret, Step, TestEngine


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pulumi_metal_reset.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

"""Offline testing helpers: the emulator fixtures and a small Pulumi test engine.

The test engine runs a Pulumi program through the real Python SDK and the real dynamic-provider
server. It is a test harness, never a way to deploy: it keeps state in a plain JSON file.
Names load lazily, so importing the fixtures does not start gRPC.
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
    "LogEntry": "pulumi_metal_reset.testing.engine",
    "ProjectError": "pulumi_metal_reset.testing.engine",
    "ProviderServer": "pulumi_metal_reset.testing.provider_server",
    "ProviderServerError": "pulumi_metal_reset.testing.provider_server",
    "faketime_env": "pulumi_metal_reset.testing.faketime",
    "find_libfaketime": "pulumi_metal_reset.testing.faketime",
}

__all__ = [
    "UNKNOWN",
    "LogEntry",
    "ProjectError",
    "ProviderServer",
    "ProviderServerError",
    "RunResult",
    "Secret",
    "Step",
    "TestEngine",
    "faketime_env",
    "find_libfaketime",
]

if TYPE_CHECKING:
    from pulumi_metal_reset.testing.engine import (
        UNKNOWN,
        LogEntry,
        ProjectError,
        RunResult,
        Secret,
        Step,
        TestEngine,
    )
    from pulumi_metal_reset.testing.faketime import faketime_env, find_libfaketime
    from pulumi_metal_reset.testing.provider_server import ProviderServer, ProviderServerError


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pulumi_metal_reset.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

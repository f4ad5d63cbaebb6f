"""Concurrent fault updates never lose one another: read-modify-write holds the lock throughout.

`dataclasses.replace` (which `update` and the control API's PATCH both go through) is slowed
down so that every thread would read the same old config if the read and the write were two
lock holds; with one hold, all eight changes must land, whatever the scheduling.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pulumi_metal_reset.emulator import Emulator, FaultConfig, FaultConfigError
from pulumi_metal_reset.emulator import faults as faults_module

from .support import Client

# One distinct non-default value per field.
CHANGES: dict[str, Any] = {
    "rate": 0.25,
    "status": 429,
    "retry_after": 7,
    "latency_ms": 1,
    "script": ["ok", "drop"],
    "drop_after_apply": True,
    "malformed": "truncated",
    "seed": 42,
}


@pytest.fixture
def slow_replace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen the window between reading the config and installing the new one."""

    def slow(obj: Any, /, **changes: Any) -> Any:
        time.sleep(0.005)
        return dataclasses.replace(obj, **changes)

    monkeypatch.setattr(faults_module, "replace", slow)


def _expected() -> FaultConfig:
    return FaultConfig(**{**CHANGES, "script": tuple(CHANGES["script"])})


@pytest.mark.usefixtures("slow_replace")
def test_concurrent_python_updates_all_land(metal_emulator: Emulator) -> None:
    barrier = threading.Barrier(len(CHANGES))

    def update(name: str) -> None:
        barrier.wait()
        metal_emulator.faults.update(**{name: CHANGES[name]})

    with ThreadPoolExecutor(len(CHANGES)) as pool:
        list(pool.map(update, CHANGES))
    assert metal_emulator.faults.config == _expected()


@pytest.mark.usefixtures("slow_replace")
def test_concurrent_control_patches_all_land(metal_emulator: Emulator) -> None:
    barrier = threading.Barrier(len(CHANGES))

    def patch(name: str) -> int:
        with Client(metal_emulator.url) as client:
            client.control("GET", "faults")  # connect before the race starts
            barrier.wait()
            return client.control("PATCH", "faults", {name: CHANGES[name]}).status

    with ThreadPoolExecutor(len(CHANGES)) as pool:
        assert list(pool.map(patch, CHANGES)) == [200] * len(CHANGES)
    assert metal_emulator.faults.config == _expected()
    with Client(metal_emulator.url) as client:
        shown = client.control("GET", "faults").json()
    assert {name: shown[name] for name in CHANGES} == CHANGES
    assert shown["script_remaining"] == CHANGES["script"]


def test_a_failed_modify_changes_nothing(metal_emulator: Emulator) -> None:
    faults = metal_emulator.faults
    faults.set(rate=0.5, script=("ok",))
    with pytest.raises(FaultConfigError):
        faults.update(rate=2.0)
    assert faults.config == FaultConfig(rate=0.5, script=("ok",))
    assert faults.script_remaining == ("ok",)
    assert json.dumps(faults.to_json())  # still serialisable, lock released

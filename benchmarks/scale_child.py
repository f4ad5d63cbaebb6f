"""One test-engine run of the scaling program, in a process of its own; prints JSON.

    python scale_child.py COUNT preview|up ENDPOINT STATE_PATH

Its own process, so that its CPU time is the engine stand-in's alone (the test engine serves the
ResourceMonitor on gRPC threads of this process), and the children's split into the program
(the Pulumi SDK) and the provider server. The provider server's calls are timed from this side,
round trip, by wrapping the gRPC stub the engine uses; its CPU time is read just before the
engine closes it. Nothing in the package is changed: only this process's view of it.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench_common import HERE, cpu_seconds, peak_rss_kib

from pulumi_metal_reset.emulator import DEV_TOKEN
from pulumi_metal_reset.testing import engine as engine_module
from pulumi_metal_reset.testing import provider_server as provider_server_module
from pulumi_metal_reset.testing.provider_server import ProviderServer

PROGRAM = HERE / "scale_program"

calls: dict[str, list[float]] = defaultdict(list)
provider_usage: dict[str, Any] = {}


class _TimedStub:
    """The ResourceProvider stub, with every unary call's round trip recorded by method."""

    def __init__(self, stub: Any) -> None:
        self._stub = stub

    def __getattr__(self, method: str) -> Any:
        call = getattr(self._stub, method)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                calls[method].append(time.perf_counter() - started)

        return timed


class _MeasuredServer(ProviderServer):
    """ProviderServer with a timed stub and a last look at the process's CPU before it dies."""

    @property
    def stub(self) -> Any:
        return _TimedStub(super().stub)

    def close(self) -> None:
        if self.pid is not None and "cpu_s" not in provider_usage:
            provider_usage["cpu_s"] = cpu_seconds(self.pid)
            provider_usage["peak_rss_kib"] = peak_rss_kib(self.pid)[0]
        super().close()


def main(count: int, kind: str, endpoint: str, state: Path) -> dict[str, Any]:
    # Wherever the engine looks the class up; if it stops doing either, the provider's figures
    # come back empty and the smoke test says so.
    engine_module.ProviderServer = _MeasuredServer  # type: ignore[attr-defined]
    provider_server_module.ProviderServer = _MeasuredServer  # type: ignore[misc]
    engine = engine_module.TestEngine(
        PROGRAM,
        stack="bench",
        config={"count": str(count), "equinix:endpoint": endpoint},
        secret_config={"equinix:authToken": DEV_TOKEN},
        state_path=state,
        timeout=1800,
    )
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = time.process_time()
    started = time.perf_counter()
    result = engine.preview() if kind == "preview" else engine.up()
    wall = time.perf_counter() - started
    engine_cpu = time.process_time() - cpu_before
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    provider_cpu = provider_usage.get("cpu_s")
    ops: dict[str, int] = defaultdict(int)
    for op in result.ops().values():
        ops[op] += 1
    return {
        "count": count,
        "kind": kind,
        "ok": result.ok,
        "error": None if result.ok else (result.error or "")[-2000:],
        "ops": dict(ops),
        "wall_s": wall,
        "engine_cpu_s": engine_cpu,
        "provider_cpu_s": provider_cpu,
        "program_cpu_s": None if provider_cpu is None else children_cpu - provider_cpu,
        "provider_peak_rss_kib": provider_usage.get("peak_rss_kib"),
        "calls": {m: {"n": len(t), "total_s": sum(t)} for m, t in sorted(calls.items())},
    }


if __name__ == "__main__":
    count, kind, endpoint, state = sys.argv[1:5]
    print(json.dumps(main(int(count), kind, endpoint, Path(state))))

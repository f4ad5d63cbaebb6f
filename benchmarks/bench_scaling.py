"""Scaling through the test engine: the same program with N resources, preview and up.

Each run is `scale_child.py` in a fresh process (see there for what it measures), from an empty
state, preview first and then up, against the emulator. Per size: wall time, time per resource,
and CPU seconds of the three processes involved: the engine stand-in (the test engine's gRPC
ResourceMonitor), the program (the Pulumi Python SDK running `scale_program`), the provider
server. The slope of a least-squares line through (N, seconds) is the marginal cost of one more
resource, the intercept the fixed cost of a run; both are given for the wall time and for each
process's CPU, which says where the per-resource cost goes.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_common import HERE, EmulatorProcess, Plan, child_env

CHILD = HERE / "scale_child.py"
PARTS = ("wall_s", "engine_cpu_s", "program_cpu_s", "provider_cpu_s")


def run_child(
    count: int, kind: str, emu: EmulatorProcess, state: Path, prefix: Sequence[str] = ()
) -> dict[str, Any]:
    """One preview or up of `count` resources; `prefix` wraps the command (a profiler)."""
    command = [*prefix, sys.executable, str(CHILD), str(count), kind, emu.url, str(state)]
    done = subprocess.run(
        command,
        env=os.environ | child_env(),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout)[-1500:]
        raise RuntimeError(f"scale_child {count} {kind} exited {done.returncode}:\n{tail}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


@dataclass
class SizeRuns:
    count: int
    preview: list[dict[str, Any]] = field(default_factory=list)
    up: list[dict[str, Any]] = field(default_factory=list)


def _one_size(count: int, emu: EmulatorProcess, repeats: int) -> SizeRuns:
    runs = SizeRuns(count)
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            state = Path(tmp) / "state.json"
            runs.preview.append(run_child(count, "preview", emu, state))
            emu.clear_journal()
            up = run_child(count, "up", emu, state)
            posts = emu.successful("POST")
            if up["ok"] and posts != count:
                up["ok"] = False
                up["error"] = f"the emulator applied {posts} POSTs for {count} resources"
            runs.up.append(up)
            if up["ok"]:
                runs_state = json.loads(state.read_text())
                up["state_bytes"] = len(state.read_bytes())
                up["state_resources"] = len(runs_state.get("resources", []))
    return runs


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get("ok") and r.get(key) is not None]
    return statistics.median(values) if values else None


def _fit(points: Sequence[tuple[float, float]]) -> dict[str, float] | None:
    """Least-squares slope (seconds per resource) and intercept (seconds per run)."""
    if len(points) < 2:
        return None
    xs, ys = zip(*points, strict=True)
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    if sxx == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    return {"slope_ms_per_resource": slope * 1e3, "intercept_s": mean_y - slope * mean_x}


def _calls(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Median round-trip milliseconds per provider call, by method."""
    per: dict[str, list[float]] = {}
    for run in runs:
        if not run.get("ok"):
            continue
        for method, stats in run["calls"].items():
            if stats["n"]:
                per.setdefault(method, []).append(stats["total_s"] / stats["n"] * 1e3)
    return {method: statistics.median(v) for method, v in sorted(per.items())}


def measure(emu: EmulatorProcess, plan: Plan) -> dict[str, Any]:
    sizes = []
    for count in plan.scaling:
        repeats = plan.scaling_repeats if count <= plan.scaling_repeat_max else 1
        sizes.append(_one_size(count, emu, repeats))
    result: dict[str, Any] = {"sizes": [], "fits": {}}
    for kind in ("preview", "up"):
        fits: dict[str, Any] = {}
        for part in PARTS:
            points = [
                (float(s.count), value)
                for s in sizes
                if (value := _median(getattr(s, kind), part)) is not None
            ]
            fits[part] = _fit(points)
        result["fits"][kind] = fits
    for size in sizes:
        entry: dict[str, Any] = {"count": size.count}
        for kind in ("preview", "up"):
            runs: list[dict[str, Any]] = getattr(size, kind)
            failed = [r for r in runs if not r.get("ok")]
            entry[kind] = {
                "runs": len(runs),
                "ok": not failed,
                "error": _last_line(failed[0].get("error")) if failed else None,
                **{part: _median(runs, part) for part in PARTS},
                "call_ms": _calls(runs),
                "ops": runs[0].get("ops") if runs else None,
            }
            wall = entry[kind]["wall_s"]
            entry[kind]["ms_per_resource"] = None if wall is None else wall / size.count * 1e3
        ups = [r for r in size.up if r.get("ok")]
        if ups:
            entry["state_bytes"] = ups[0].get("state_bytes")
        sizes_out: list[dict[str, Any]] = result["sizes"]
        sizes_out.append(entry)
    return result


def _last_line(error: str | None) -> str | None:
    if not error:
        return error
    lines = [line.strip() for line in error.strip().splitlines() if line.strip()]
    return lines[-1] if lines else None

"""Diagnosis (d): each variant's Check+Create replayed in one thread, CPU by step.

Through the real server every variant's figure is mostly the server's own work and its four
worker threads handing the GIL over; this replay (`replay_child.py`) leaves both out, so the
differences between providers' own steps show. Runs alternate between variants, and each step
is reported as its best over the runs (the figure least disturbed by other load), with the
median of the runs' totals beside it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from collections.abc import Sequence
from typing import Any

from bench_common import HERE, EmulatorProcess, Plan
from bench_servers import Variant, provider_config
from replay_child import STEPS

#: Runs per variant and warm pairs per run, by plan.
RUNS = {"full": 6, "quick": 2, "smoke": 1}
PAIRS = {"full": 2000, "quick": 500, "smoke": 20}


def _run_child(variant: Variant, emu: EmulatorProcess, pairs: int) -> dict[str, float]:
    env = os.environ | dict(variant.env)
    env["BENCH_BLOB"] = variant.blob
    env["BENCH_CONFIG"] = json.dumps(provider_config(emu))
    done = subprocess.run(
        [variant.python, str(HERE / "replay_child.py"), str(pairs)],
        env=env,
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{variant.key}: the replay failed: {tail[0]}")
    result: dict[str, float] = json.loads(done.stdout)
    return result


def replay(variants: Sequence[Variant], emu: EmulatorProcess, plan: Plan) -> dict[str, Any]:
    """Per variant: the best ms per pair of each step, and the median and best of the totals."""
    chosen = [v for v in variants if v.key in plan.diagnose]
    runs: dict[str, list[dict[str, float]]] = {v.key: [] for v in chosen}
    for n in range(RUNS[plan.name]):
        for variant in chosen if n % 2 == 0 else chosen[::-1]:
            runs[variant.key].append(_run_child(variant, emu, PAIRS[plan.name]))
    out: dict[str, Any] = {}
    for key, found in runs.items():
        totals = [sum(run[step] for step in STEPS) for run in found]
        out[key] = {
            "runs": len(found),
            "pairs_per_run": PAIRS[plan.name],
            "best_ms": {step: min(run[step] for run in found) for step in STEPS},
            "best_total_ms": min(totals),
            "median_total_ms": statistics.median(totals),
        }
    return out

"""The benchmark harness at its smallest sizes, end to end, so that `make bench` cannot rot.

Runs `benchmarks/run.py --plan smoke` once (every section) and checks the results file: its
shape, and that every variant and every section produced numbers. No time is asserted: the
figures depend on the machine and its load. What is asserted besides shape is what the
benchmark itself must guarantee to be meaningful: the rate-limited run met 429s, failed nothing
and applied exactly one POST per resource, and every retry waited its Retry-After.

The SDK variant needs its own venv from PyPI (built once into benchmarks/.venv-sdk). Only when
pip cannot reach the package index is its test skipped, with pip's reason; in CI (CI set, or
METAL_RESET_REQUIRE_SDK_BENCH=1) that fails instead, as does any other install failure.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "run.py"
FIGURES = (
    "ready_s",
    "first_check_s",
    "first_create_s",
    "to_first_create_s",
    "creates_per_s",
    "peak_rss_mib",
    "cpu_to_first_create_s",
    "cpu_ms_per_pair",
    "system_ms_per_pair",
    "switches_per_pair",
)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [sys.executable, str(RUN), "--plan", "smoke", "--sdk-optional", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _spread_ok(spread: Any) -> bool:
    return isinstance(spread, dict) and all(
        _number(spread[k]) for k in ("median", "low", "high", "n")
    )


def test_metadata_names_the_machine_and_the_versions(results: dict[str, Any]) -> None:
    meta = results["meta"]
    assert isinstance(meta["cpu_count"], int)
    assert meta["cpu_count"] > 0
    assert meta["python"].count(".") == 2
    datetime.datetime.fromisoformat(meta["date"])
    for library in ("pulumi", "requests", "urllib3", "pydantic", "pulumi-metal-reset"):
        assert meta["versions"][library]
    assert set(results["sections"]) == {"table", "ratelimit", "scaling", "footprint", "diagnose"}


@pytest.mark.parametrize("variant", ["bare", "ours"])
def test_every_figure_of_the_table_is_measured(results: dict[str, Any], variant: str) -> None:
    figures = results["provider_server"]["summary"]["figures"][variant]
    for name in FIGURES:
        assert _spread_ok(figures[name]), (variant, name, figures[name])
    # Every call is a gRPC request a worker thread waited for: a count of 0 means no thread's
    # switches were read.
    assert figures["switches_per_pair"]["median"] > 0
    assert results["provider_server"]["runs"][variant]
    assert _spread_ok(results["provider_server"]["summary"]["ratios"]["ours/bare"]["creates_per_s"])


def test_the_sdk_variant_is_measured(results: dict[str, Any]) -> None:
    sdk = results["meta"]["sdk_venv"]
    if sdk["unavailable"]:
        required = (
            bool(os.environ.get("CI")) or os.environ.get("METAL_RESET_REQUIRE_SDK_BENCH") == "1"
        )
        if sdk["network_failure"] and not required:
            pytest.skip(f"the SDK's venv could not be built: {sdk['unavailable']}")
        pytest.fail(f"the SDK's venv could not be built: {sdk['unavailable']}")
    assert sdk["versions"]["equinix-metal"] == "0.11.0"
    assert sdk["versions"]["pulumi"] == results["meta"]["versions"]["pulumi"]
    assert sdk["versions"]["python"] == results["meta"]["python"]  # never another lane's venv
    summary = results["provider_server"]["summary"]
    for name in FIGURES:
        assert _spread_ok(summary["figures"]["sdk"][name]), name
    for name in ("to_first_create_s", "creates_per_s", "peak_rss_mib"):
        assert _spread_ok(summary["ratios"]["ours/sdk"][name]), name
    assert all(goal["value"] is not None for goal in results["goals"].values())


def test_rate_limited_run_met_429s_and_converged_exactly_once(results: dict[str, Any]) -> None:
    limited = results["rate_limited"]
    assert limited["throttled"] > 0
    assert limited["bound_s"] > 0
    assert limited["failures"] == 0, limited["failure_sample"]
    assert limited["one_post_per_resource"]
    assert limited["applied_posts"] == limited["resources"]
    assert limited["waits_honoured"], limited["shortest_retry_gap_s"]
    assert _number(limited["wall_over_bound"])


def test_scaling_runs_every_size_with_a_slope(results: dict[str, Any]) -> None:
    scaling = results["scaling"]
    counts = [size["count"] for size in scaling["sizes"]]
    assert counts == results["meta"]["plan"]["scaling"]
    for size in scaling["sizes"]:
        for kind in ("preview", "up"):
            run = size[kind]
            assert run["ok"], run["error"]
            assert run["ops"] == {"create": size["count"]}
            for part in ("wall_s", "engine_cpu_s", "program_cpu_s", "provider_cpu_s"):
                assert _number(run[part]), (size["count"], kind, part)
            assert set(run["call_ms"]) >= ({"Check"} if kind == "preview" else {"Check", "Create"})
    for kind in ("preview", "up"):
        assert scaling["fits"][kind]["wall_s"]["slope_ms_per_resource"] is not None


def test_footprint_counts_the_provider_blob_and_the_entry(results: dict[str, Any]) -> None:
    footprint = results["footprint"]
    assert footprint["provider_blob"]["ours"]["base64_bytes"] > 0
    assert footprint["entry_bytes"] > footprint["entry_without_provider_bytes"] > 0
    assert "email" in footprint["input_keys"]
    assert "email" in footprint["output_keys"]


def test_diagnosis_fills_every_part(results: dict[str, Any]) -> None:
    diagnosis = results["diagnosis"]
    imports = diagnosis["first_call_imports"]["ours"]
    for phase in ("startup", "first_check", "first_create"):
        assert _number(imports[phase]["total_ms"])
        assert imports[phase]["modules"] >= 0
    assert imports["startup"]["modules"] > 0
    split = diagnosis["per_call_ms"]["ours"]
    for rpc in ("Check", "Create"):
        assert _number(split[rpc]["rpc_ms"])
        assert _number(split[rpc]["provider_ms"])
    profile = diagnosis["profile_under_load"]["ours"]
    if sys.version_info >= (3, 12):  # one profiler per process: the part says why it did not run
        assert set(profile) == {"skipped"}
        assert "one active profiler per process" in profile["skipped"]
    else:
        assert profile["profiled_ms_per_pair"] > 0
        assert profile["self_ms_per_pair_by_package"]
    assert all(_number(v) for v in diagnosis["rss_phases_mib"]["ours"].values())
    assert all(_number(v) for v in diagnosis["http_stacks_ms"].values())
    assert all(_number(v) for v in diagnosis["import_rss_mib"].values())
    floor = diagnosis["memory_floor"]
    assert floor["bare_peak_mib"] < floor["libraries_peak_mib"] <= floor["ours_peak_mib"]
    assert floor["bare_peak_mib"] < floor["working_peak_mib"] <= floor["ours_peak_mib"]
    assert floor["ours_over_floor_mib"] == pytest.approx(
        floor["ours_peak_mib"] - floor["working_peak_mib"]
    )
    replayed = diagnosis["replayed_pair_ms"]["ours"]
    assert replayed["runs"] == 1
    assert set(replayed["best_ms"]) == {"check", "serialize_inputs", "create", "serialize_outputs"}
    assert all(v > 0 for v in replayed["best_ms"].values())
    assert replayed["best_total_ms"] == pytest.approx(sum(replayed["best_ms"].values()))

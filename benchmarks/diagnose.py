"""Section 5, the diagnosis: runs (a) imports, (b) per-call costs, (c) memory, (d) a replay of
each provider's steps in one thread, and prints them.

The measurements live in `diagnose_startup.py`, `diagnose_calls.py` and `diagnose_replay.py`;
README.md explains how to read them and lists the fixes they point at.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import diagnose_calls
import diagnose_pyspy
import diagnose_replay
import diagnose_startup
import replay_child
from bench_common import EmulatorProcess, Plan, print_table
from bench_report import LABELS
from bench_servers import Variant

#: Sequential warm Check+Create pairs for the per-call split, and POSTs per HTTP stack.
SPLIT_CALLS = {"full": 300, "quick": 100, "smoke": 5}
STACK_CALLS = {"full": 2000, "quick": 500, "smoke": 20}


def run(
    variants: Sequence[Variant], emu: EmulatorProcess, plan: Plan, sdk_python: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "first_call_imports": {},
        "per_call_ms": {},
        "profile_under_load": {},
        "rss_phases_mib": {},
        "sampled_under_load": {},
        "collections_under_load": {},
    }
    for variant in [v for v in variants if v.key in plan.diagnose]:
        out["first_call_imports"][variant.key] = diagnose_startup.first_call_imports(variant, emu)
        out["per_call_ms"][variant.key] = diagnose_calls.per_call_split(
            variant, emu, SPLIT_CALLS[plan.name]
        )
        out["profile_under_load"][variant.key] = diagnose_calls.profile_under_load(
            variant, emu, plan
        )
        out["rss_phases_mib"][variant.key] = diagnose_startup.rss_phases(variant, emu, plan)
        out["collections_under_load"][variant.key] = diagnose_calls.collections_under_load(
            variant, emu, plan
        )
        out["sampled_under_load"][variant.key] = diagnose_pyspy.server_under_load(
            variant, emu, plan
        )
    out["memory_floor"] = diagnose_startup.memory_floor(variants, emu, plan)
    out["sampled_scaling_up"] = diagnose_pyspy.scaling_up(emu, plan.profile_creates)
    out["http_stacks_ms"] = diagnose_calls.http_stacks(emu, STACK_CALLS[plan.name])
    python = next(v.python for v in variants if v.key == "ours")
    sdk_python = sdk_python if "sdk" in plan.diagnose else None
    out["import_rss_mib"] = diagnose_startup.import_rss_table(python, sdk_python)
    out["replayed_pair_ms"] = diagnose_replay.replay(variants, emu, plan)
    return out


def _top(mapping: dict[str, float], n: int = 6, digits: int = 1) -> str:
    items = list(mapping.items())[:n]
    return ", ".join(f"{name} {value:.{digits}f}" for name, value in items) or "none"


def report(d: dict[str, Any]) -> None:
    print("\n5. Diagnosis")
    print("   (a) imports during the first calls (-X importtime, ms; cumulative of top-level)")
    for key, imports in d["first_call_imports"].items():
        for phase in ("first_check", "first_create"):
            p = imports[phase]
            print(
                f"     {LABELS[key]:<18} {phase.replace('_', ' '):<12} {p['total_ms']:7.1f} ms, "
                f"{p['modules']:3d} modules: {_top(p['top_level'], 4)}"
            )
            if p["self_by_package"]:
                print(f"{'':38}self by package: {_top(p['self_by_package'])}")
                print(f"{'':38}self by module: {_top(p['self_by_module'], 5)}")
            print(
                f"{'':38}garbage collections: {p['collections']} ({p['collections_ms']:.1f} ms), "
                f"of which full: {p['full_collections']} ({p['full_collections_ms']:.1f} ms)"
            )
    rows = []
    for key, split in d["per_call_ms"].items():
        rows.append(
            [
                LABELS[key],
                *(
                    f"{split[rpc][part]:.3f}"
                    for rpc in ("Check", "Create")
                    for part in ("rpc_ms", "provider_ms")
                ),
            ]
        )
    print_table(
        "   (b) one call at a time, warm: median ms in the RPC and in the provider's own method",
        ["variant", "Check", "check()", "Create", "create()"],
        rows,
    )
    for key, prof in d["profile_under_load"].items():
        if "skipped" in prof:
            print(f"     {LABELS[key]}, cProfile under load: {prof['skipped']}")
            continue
        print(
            f"     {LABELS[key]}, {prof['pairs']} pairs 4 at a time (cProfile, ms per pair, "
            f"includes waits): {prof['profiled_ms_per_pair']:.2f} in RPCs\n"
            f"       self by package: {_top(prof['self_ms_per_pair_by_package'], 7, 2)}\n"
            f"       watched (cumulative): "
            f"{_top(prof['watched_cumulative_ms_per_pair'], 8, 2)}"
        )
    print(
        "   HTTP stacks alone, sequential keep-alive POST, median ms: "
        + _top(d["http_stacks_ms"], 8, 3)
    )
    rows = [
        [LABELS[key], *(f"{v:.1f}" if v is not None else "-" for v in phases.values())]
        for key, phases in d["rss_phases_mib"].items()
    ]
    print_table(
        "   (c) provider RSS, MiB",
        ["variant", "started", "1st Check", "1st Create", "after load", "peak"],
        rows,
    )
    print("   peak RSS of a fresh interpreter importing, MiB: " + _top(d["import_rss_mib"], 10))
    _report_floor(d["memory_floor"])
    _report_replay(d["replayed_pair_ms"])
    scaling = d["sampled_scaling_up"]
    if "skipped" in scaling:
        print(f"   py-spy of a test-engine up: not run, {scaling['skipped']}")
        return
    print(f"   py-spy of one test-engine up of {scaling['count']} resources, CPU by process")
    for name, proc in scaling["processes"].items():
        print(
            f"     {name:<8} {proc['work_cpu_ms_per_unit']:.2f} ms per resource "
            f"(+ {proc['imports_cpu_ms_total']:.0f} ms importing); inclusive: "
            f"{_top(proc['on_stack_ms'], 8, 2)}"
        )


def _report_floor(floor: dict[str, float | None]) -> None:
    if floor.get("libraries_ratio") is None:
        print("   memory floor of the kept libraries: not measured (no /proc here)")
        return
    print(
        f"   memory floor through the server, peak MiB: bare {floor['bare_peak_mib']:.2f}; bare "
        f"importing pydantic-core, email-validator and requests {floor['libraries_peak_mib']:.2f}"
        f" ({floor['libraries_ratio']:.3f}x); and also validating every address with "
        f"email-validator and POSTing through requests {floor['working_peak_mib']:.2f} "
        f"({floor['working_ratio']:.3f}x); this package {floor['ours_peak_mib']:.2f} "
        f"({floor['ours_ratio']:.3f}x)\n"
        f"     the {floor['goal_ratio']}x goal leaves {floor['left_for_provider_mib']:.2f} MiB "
        f"beyond that working floor for a provider's own code and work; ours takes "
        f"{floor['ours_over_floor_mib']:.2f}"
    )


def _report_replay(replayed: dict[str, Any]) -> None:
    any_run = next(iter(replayed.values()))
    rows = [
        [
            LABELS[key],
            *(f"{r['best_ms'][step]:.3f}" for step in replay_child.STEPS),
            f"{r['best_total_ms']:.3f}",
            f"{r['median_total_ms']:.3f}",
        ]
        for key, r in replayed.items()
    ]
    print_table(
        f"   (d) one Check+Create replayed in one thread, no gRPC: warm CPU ms per pair, best of "
        f"{any_run['runs']} alternating runs of {any_run['pairs_per_run']} pairs",
        ["variant", "check", "ser. inputs", "create", "ser. outputs", "total", "median total"],
        rows,
    )

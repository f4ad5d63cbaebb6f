"""Issue 12's benchmarks, side by side in one run; README.md explains every figure.

Not a test: nothing here passes or fails on speed. Absolute times depend on the machine and
its load; the ratios between variants measured in the same run are what to compare.

    .venv/bin/python benchmarks/run.py [--plan full|quick|smoke] [--json PATH]
                                       [--only SECTION,...] [--sdk-optional]

Sections: table (the real provider server: bare http.client, the equinix-metal SDK, ours),
ratelimit, scaling, footprint, diagnose. The SDK variant runs in its own venv, built on first
use (`sdk_venv.py`); without it the run stops, unless --sdk-optional is given, in which case
the results say why the SDK figures are missing.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import bench_footprint
import bench_ratelimit
import bench_report
import bench_scaling
import bench_servers
import diagnose
from bare_provider import BareProvider
from bench_common import (
    PLANS,
    Plan,
    byte_compile,
    child_env,
    emulator_process,
    loopback_only,
)
from bench_servers import Variant
from pulumi.dynamic.dynamic import serialize_provider
from sdk_venv import SdkVenv, ensure_sdk_venv, sdk_blob

from pulumi_metal_reset.provider import PasswordResetTokenProvider

SECTIONS = ("table", "ratelimit", "scaling", "footprint", "diagnose")
LIBRARIES = (
    "pulumi",
    "pulumi-metal-reset",
    "requests",
    "urllib3",
    "charset-normalizer",
    "pydantic",
    "pydantic-core",
    "email-validator",
    "grpcio",
    "protobuf",
    "dill",
)


def variants(sdk: SdkVenv) -> list[Variant]:
    python = sys.executable
    found = [Variant("bare", serialize_provider(BareProvider()), python, child_env())]
    if sdk.python is not None:
        found.append(Variant("sdk", sdk_blob(sdk), str(sdk.python), child_env(with_repo=False)))
    blob = serialize_provider(PasswordResetTokenProvider())
    found.append(Variant("ours", blob, python, child_env()))
    return found


def metadata(plan: Plan, sdk: SdkVenv) -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "plan": asdict(plan),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {name: importlib.metadata.version(name) for name in LIBRARIES},
        "sdk_venv": {
            "versions": sdk.versions,
            "unavailable": sdk.unavailable,
            "network_failure": sdk.network_failure,
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--plan", choices=sorted(PLANS), default="full")
    parser.add_argument("--json", metavar="PATH", type=Path, help="write the results here")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument(
        "--sdk-optional",
        action="store_true",
        help="go on without the SDK variant when its venv cannot be built (the reason is kept)",
    )
    args = parser.parse_args(argv)
    plan = PLANS[args.plan]
    sections = [s for s in args.only.split(",") if s]
    if unknown := set(sections) - set(SECTIONS):
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    loopback_only()
    began = time.perf_counter()
    bytecode = byte_compile()

    sdk = ensure_sdk_venv() if {"table", "diagnose"} & set(sections) else SdkVenv(None, {})
    if sdk.unavailable and not args.sdk_optional:
        print(f"the SDK variant cannot run: {sdk.unavailable}", file=sys.stderr)
        return 2
    if sdk.unavailable:
        print(f"SDK variant NOT MEASURED: {sdk.unavailable}")
    found = variants(sdk)
    results: dict[str, Any] = {"meta": metadata(plan, sdk), "sections": sections}
    results["meta"]["bytecode"] = bytecode
    meta = results["meta"]
    print(
        f"pulumi-metal-reset benchmarks ({plan.name} plan), {meta['cpu_count']} cores, "
        f"Python {meta['python']}, load average {meta['load_average_at_start'][0]:.2f}; "
        f"variants: {', '.join(v.key for v in found)}",
        flush=True,
    )
    ours = next(v for v in found if v.key == "ours")

    with emulator_process() as emu:
        if "table" in sections:
            runs = bench_servers.measure(found, emu, plan)
            summary = bench_servers.summarise(runs)
            results["provider_server"] = {"summary": summary, "runs": bench_servers.raw(runs)}
            bench_report.provider_server(summary, plan.rounds, plan.creates)
        if "ratelimit" in sections:
            limited = bench_ratelimit.measure(ours, emu, plan)
            results["rate_limited"] = asdict(limited)
            bench_report.rate_limited(results["rate_limited"])
        if "scaling" in sections:
            results["scaling"] = bench_scaling.measure(emu, plan)
            bench_report.scaling(results["scaling"])
        if "footprint" in sections:
            blobs = {v.key: v.blob for v in found}
            results["footprint"] = bench_footprint.measure(emu, blobs)
            bench_report.footprint(results["footprint"])
        if "diagnose" in sections:
            sdk_python = None if sdk.python is None else str(sdk.python)
            results["diagnosis"] = diagnose.run(found, emu, plan, sdk_python)
            diagnose.report(results["diagnosis"])

    results["goals"] = bench_report.goals(results)
    if results["goals"]:
        bench_report.print_goals(results["goals"])
    results["meta"]["load_average_at_end"] = list(os.getloadavg())
    results["elapsed_s"] = time.perf_counter() - began
    print(f"\ntotal {results['elapsed_s']:.0f} s; compare ratios, not absolute times.")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

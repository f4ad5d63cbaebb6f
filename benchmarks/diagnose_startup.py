"""Diagnosis (a) and (c): what the first Check and the first Create import, and what memory holds.

(a) The provider server runs with PYTHONPROFILEIMPORTTIME=1 (as `-X importtime`) under
`instrumented_server.py`, which writes a marker line around each RPC and one per garbage
collection; the import lines between the markers of the first Check, and of the first Create,
are what those calls imported. For each call: the total import time (the cumulative times of
the call's top-level imports, which -X importtime inflates by a few percent), the top-level
modules with their cumulative times, the self times by package and by module, and the garbage
collections in the call: a full (generation 2) collection walks every object the process holds
and lands inside whichever module happens to be importing, whose self time it inflates.

(c) Resident memory: the server's VmRSS after start, after the first Check and after the first
Create, and VmHWM after the concurrent calls (unmodified server); then what importing each
heavy piece alone costs, as the peak RSS (VmHWM) of a fresh interpreter; then the memory floor
of the kept libraries through the server (`memory_floor`): what the 1.2x goal leaves for the
provider's own code once pydantic-core, email-validator and requests are loaded, and once they
do the least work the issue asks of them (every address validated, every POST sent by requests).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench_common import RPC_TIMEOUT, EmulatorProcess, Plan, child_env, peak_rss_kib
from bench_report import GOALS
from bench_servers import (
    Variant,
    check_and_create,
    concurrently,
    configure,
    provider_config,
    start_server,
    struct,
)
from floor_provider import LibraryFloorProvider, WorkingFloorProvider
from instrumented import instrumented
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2

_IMPORT = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
_MARKER = re.compile(r"@@bench ([A-Z]\w+) (begin|end)")
_GC = re.compile(r"@@bench gc (\d) ([\d.]+)")


@dataclass
class ImportLine:
    self_us: int
    cumulative_us: int
    depth: int
    name: str


@dataclass
class Phase:
    imports: list[ImportLine] = field(default_factory=list)
    #: (generation, milliseconds) of every garbage collection during the phase.
    collections: list[tuple[int, float]] = field(default_factory=list)


def split_by_call(stderr: str) -> dict[str, Phase]:
    """Import lines and collections by phase: "startup" (before the first RPC), "<Method> #<n>"."""
    phases: dict[str, Phase] = {"startup": Phase()}
    current = "startup"
    seen: Counter[str] = Counter()
    for line in stderr.splitlines():
        if marker := _MARKER.search(line):
            method, edge = marker[1], marker[2]
            if edge == "begin":
                seen[method] += 1
                current = f"{method} #{seen[method]}"
            else:
                current = f"between {method} #{seen[method]}"
            continue
        phase = phases.setdefault(current, Phase())
        if collected := _GC.search(line):
            phase.collections.append((int(collected[1]), float(collected[2])))
        elif found := _IMPORT.match(line):
            depth = (len(found[3]) - 1) // 2
            phase.imports.append(ImportLine(int(found[1]), int(found[2]), depth, found[4]))
    return phases


def summarise_phase(phase: Phase | None, top: int = 8) -> dict[str, Any]:
    """Import time (total, top-level cumulative, self by package and by module) and the
    garbage collections that ran inside the phase (their time is inside some module's)."""
    phase = phase or Phase()
    lines = phase.imports
    gen2 = [ms for gen, ms in phase.collections if gen == 2]
    collections = {
        "collections": len(phase.collections),
        "collections_ms": sum(ms for _, ms in phase.collections),
        "full_collections": len(gen2),
        "full_collections_ms": sum(gen2),
    }
    if not lines:
        empty = {"total_ms": 0.0, "modules": 0, "top_level": {}, "self_by_package": {}}
        return {**empty, "self_by_module": {}, **collections}
    shallowest = min(line.depth for line in lines)
    tops = [line for line in lines if line.depth == shallowest]
    packages: Counter[str] = Counter()
    for line in lines:
        packages[line.name.split(".")[0]] += line.self_us
    ranked = sorted(tops, key=lambda line: line.cumulative_us, reverse=True)[:top]
    by_self = sorted(lines, key=lambda line: line.self_us, reverse=True)[:top]
    return {
        "total_ms": sum(line.cumulative_us for line in tops) / 1e3,
        "modules": len(lines),
        "top_level": {line.name: line.cumulative_us / 1e3 for line in ranked},
        "self_by_package": {p: us / 1e3 for p, us in packages.most_common(top)},
        "self_by_module": {line.name: line.self_us / 1e3 for line in by_self},
        **collections,
    }


def first_call_imports(variant: Variant, emu: EmulatorProcess) -> dict[str, Any]:
    """One instrumented process: Configure, then the first Check and Create, with importtime."""
    env = {"PYTHONPROFILEIMPORTTIME": "1", "BENCH_MARKERS": "1", "BENCH_GC": "1"}
    with instrumented(variant, env) as server:
        configure(server, provider_config(emu))
        check_s, create_s = check_and_create(server, variant.blob, "imports")
        stderr = server.wait_for_output("@@bench Create end")
    phases = split_by_call(stderr)
    return {
        "startup": summarise_phase(phases.get("startup")),
        "first_check": summarise_phase(phases.get("Check #1")),
        "first_create": summarise_phase(phases.get("Create #1")),
        "first_check_s_under_importtime": check_s,
        "first_create_s_under_importtime": create_s,
    }


# --- (c) memory ------------------------------------------------------------------------------


def rss_phases(variant: Variant, emu: EmulatorProcess, plan: Plan) -> dict[str, float | None]:
    """VmRSS (MiB) of the unmodified server after each phase; VmHWM after the load."""

    def mib(kib: int | None) -> float | None:
        return None if kib is None else kib / 1024

    with start_server(variant) as server:
        after_start = peak_rss_kib(server.pid)[1]
        configure(server, provider_config(emu))
        name = "urn:pulumi:bench::bench::bench:index:Rss::rss"
        news = struct({"email": "rss@example.com", "__provider": variant.blob})
        checked = server.stub.Check(
            provider_pb2.CheckRequest(urn=name, olds=struct({}), news=news),
            timeout=RPC_TIMEOUT,
        )
        after_check = peak_rss_kib(server.pid)[1]
        server.stub.Create(
            provider_pb2.CreateRequest(urn=name, properties=checked.inputs),
            timeout=RPC_TIMEOUT,
        )
        after_create = peak_rss_kib(server.pid)[1]
        concurrently(
            lambda n: check_and_create(server, variant.blob, f"rss{n}"),
            plan.creates,
            plan.concurrency,
        )
        peak, after_load = peak_rss_kib(server.pid)
    return {
        "after_start_mib": mib(after_start),
        "after_first_check_mib": mib(after_check),
        "after_first_create_mib": mib(after_create),
        "after_load_mib": mib(after_load),
        "peak_mib": mib(peak),
    }


def memory_floor(
    variants: Sequence[Variant], emu: EmulatorProcess, plan: Plan
) -> dict[str, float | None]:
    """Peak RSS through the server of bare, of bare with the kept libraries, and of ours.

    One process each, run the way the table runs them (the table's rounds agree within 0.1 MiB).
    `libraries` only imports them; `working` also makes them do the least the issue asks (see
    floor_provider.py). `left_for_provider_mib` is what the goal allows beyond the working
    floor: the budget for the provider's own modules and work; `ours_over_floor_mib` is what
    ours spends of it.
    """
    by_key = {v.key: v for v in variants}
    bare = by_key["bare"]
    floors = [
        Variant(key, serialize_provider(cls()), bare.python, bare.env)
        for key, cls in (("libraries", LibraryFloorProvider), ("working", WorkingFloorProvider))
    ]
    peaks = {v.key: rss_phases(v, emu, plan)["peak_mib"] for v in (bare, *floors, by_key["ours"])}
    bound = next(b for name, (_, figure), _, b in GOALS if figure == "peak_rss_mib")
    base, libraries, working, ours = (peaks[k] for k in ("bare", "libraries", "working", "ours"))
    if base is None or libraries is None or working is None or ours is None:  # no /proc here
        return {"goal_ratio": bound, **{f"{k}_peak_mib": v for k, v in peaks.items()}}
    return {
        "goal_ratio": bound,
        "bare_peak_mib": base,
        "libraries_peak_mib": libraries,
        "working_peak_mib": working,
        "ours_peak_mib": ours,
        "libraries_ratio": libraries / base,
        "working_ratio": working / base,
        "ours_ratio": ours / base,
        "left_for_provider_mib": bound * base - working,
        "ours_over_floor_mib": ours - working,
    }


def import_rss(python: str, statement: str, *, with_repo: bool = True) -> float:
    """Peak RSS (MiB) of a fresh interpreter that runs `statement`, read by itself at the end.

    Not the parent's `wait4` figure: on Linux a child's ru_maxrss starts from the parent's
    peak at fork, which would hide every import smaller than the benchmark process itself.
    """
    env = os.environ | child_env(with_repo=with_repo)
    probe = "; print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    out = subprocess.run(
        [python, "-c", statement + probe],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return int(out.split()[-2]) / 1024


def import_rss_table(python: str, sdk_python: str | None) -> dict[str, float]:
    """Peak RSS of importing each piece on top of what every provider server imports."""
    base = "import grpc, dill, pulumi.dynamic, pulumi.runtime.proto.provider_pb2_grpc"
    rows = {
        "server baseline (pulumi.dynamic, grpc, dill)": base,
        "+ pydantic_core": f"{base}; import pydantic_core",  # the first calls never import pydantic
        "+ email_validator": f"{base}; import email_validator",
        "+ requests": f"{base}; import requests",
        # requests imports it unconditionally; from 3.5.0 its import looks up the Unicode names
        # of 613 letters, which pages in 0.7 MiB of unicodedata's name database
        "+ charset_normalizer": f"{base}; import charset_normalizer",
        "+ pulumi_metal_reset.provider (1st Check)": f"{base}; import pulumi_metal_reset.provider",
        "+ provider and client (1st Create)": (
            f"{base}; import pulumi_metal_reset.provider, pulumi_metal_reset.client"
        ),
    }
    table = {name: import_rss(python, statement) for name, statement in rows.items()}
    if sdk_python is not None:
        table["SDK venv: server baseline"] = import_rss(sdk_python, base, with_repo=False)
        table["SDK venv: + equinix_metal"] = import_rss(
            sdk_python, f"{base}; import equinix_metal", with_repo=False
        )
    return table

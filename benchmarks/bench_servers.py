"""Issue 12's table: the real `python -m pulumi.dynamic` server, one variant beside the other.

Per fresh provider process: process start to the first successful Create (Configure, Check,
Create: every import the first calls need), then `plan.creates` Check+Create pairs
`plan.concurrency` at a time (the server's pool has four threads), then the process's peak
RSS (VmHWM). Rounds interleave the variants, rotating their order, so drifting load on a shared
machine hits each alike; ratios are taken per round (side by side) and then summarised.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from bench_common import (
    HERE,
    RPC_TIMEOUT,
    CpuUsage,
    EmulatorProcess,
    Plan,
    Spread,
    cpu_usage,
    peak_rss_kib,
    ratios,
)
from google.protobuf import struct_pb2
from pulumi.runtime.proto import provider_pb2

from pulumi_metal_reset.emulator import DEV_TOKEN
from pulumi_metal_reset.testing.provider_server import ProviderServer

TYPE = "pulumi-python:dynamic/metal:PasswordResetToken"


def urn(name: str) -> str:
    return f"urn:pulumi:bench::bench::{TYPE}::{name}"


@dataclass(frozen=True)
class Variant:
    """One provider as the engine would run it: its pickled blob and its interpreter."""

    key: str
    blob: str = field(repr=False)
    python: str
    env: Mapping[str, str]


def provider_config(emu: EmulatorProcess) -> dict[str, str]:
    """The same stack config for every variant, as the engine sends it (strings)."""
    return {
        "equinix:endpoint": emu.url,
        "equinix:authToken": DEV_TOKEN,
        "equinix:requestTimeout": "10",
    }


def struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(dict(values))
    return out


def configure(server: ProviderServer, config: Mapping[str, str]) -> None:
    server.stub.Configure(
        provider_pb2.ConfigureRequest(args=struct(config), acceptSecrets=True),
        timeout=RPC_TIMEOUT,
    )


def check_and_create(server: ProviderServer, blob: str, name: str) -> tuple[float, float]:
    """One resource as the engine creates it: Check, then Create with the checked inputs."""
    started = time.perf_counter()
    news = struct({"email": f"{name}@example.com", "__provider": blob})
    checked = server.stub.Check(
        provider_pb2.CheckRequest(urn=urn(name), olds=struct({}), news=news),
        timeout=RPC_TIMEOUT,
    )
    if list(checked.failures):
        raise RuntimeError(f"Check failed: {[(f.property, f.reason) for f in checked.failures]}")
    checked_at = time.perf_counter()
    created = server.stub.Create(
        provider_pb2.CreateRequest(urn=urn(name), properties=checked.inputs),
        timeout=RPC_TIMEOUT,
    )
    if not created.id:
        raise RuntimeError("Create returned no id")
    return checked_at - started, time.perf_counter() - checked_at


def concurrently(work: Callable[[int], Any], count: int, workers: int) -> tuple[float, list[Any]]:
    """Run `work(0..count-1)` on `workers` threads; (wall seconds, results in order)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        began = time.perf_counter()
        results = list(pool.map(work, range(count)))
        return time.perf_counter() - began, results


def start_server(variant: Variant, env: Mapping[str, str] | None = None) -> ProviderServer:
    """The real server for `variant`, started the way the engine starts it."""
    return ProviderServer(
        HERE, project="bench", env={**variant.env, **(env or {})}, python=variant.python
    )


@dataclass
class ServerRun:
    """One fresh provider process of one variant."""

    ready_s: float  # process start until the gRPC port answers: python, pulumi.dynamic, grpc
    first_check_s: float  # dill.loads of __provider (the provider's imports), configure, check
    first_create_s: float  # whatever the provider imports or builds on first use
    to_first_create_s: float  # process start to the first successful Create
    creates: int
    wall_s: float
    creates_per_s: float
    peak_rss_kib: int | None
    rss_kib: int | None
    #: CPU seconds of the provider process to its first create, and per Check+Create pair under
    #: load (from /proc, 10 ms ticks): steadier than wall times on a machine shared with others.
    cpu_to_first_create_s: float | None = None
    cpu_ms_per_pair: float | None = None
    #: Of `cpu_ms_per_pair`, what the kernel spent for the process (system time); and how often
    #: per pair one of its threads stopped to wait (for the GIL, the socket, the pool's lock).
    #: The in-process replay (diagnosis (d)) has neither: this is where the server's threads
    #: add to a provider's own difference.
    system_ms_per_pair: float | None = None
    switches_per_pair: float | None = None


def run_once(variant: Variant, emu: EmulatorProcess, plan: Plan) -> ServerRun:
    emu.clear_journal()
    started = time.perf_counter()
    with start_server(variant) as server:
        ready = time.perf_counter()
        configure(server, provider_config(emu))
        check_s, create_s = check_and_create(server, variant.blob, "first")
        first = time.perf_counter()
        before = cpu_usage(server.pid)
        wall, _ = concurrently(
            lambda n: check_and_create(server, variant.blob, f"u{n}"),
            plan.creates,
            plan.concurrency,
        )
        after = cpu_usage(server.pid)
        peak, rss = peak_rss_kib(server.pid)
    posts = emu.successful("POST")
    if posts != plan.creates + 1:
        raise RuntimeError(
            f"{variant.key}: the emulator applied {posts} POSTs for {plan.creates + 1} creates"
        )
    return ServerRun(
        ready_s=ready - started,
        first_check_s=check_s,
        first_create_s=create_s,
        to_first_create_s=first - started,
        creates=plan.creates,
        wall_s=wall,
        creates_per_s=plan.creates / wall if wall > 0 else 0.0,
        peak_rss_kib=peak,
        rss_kib=rss,
        cpu_to_first_create_s=None if before is None else before.user_s + before.system_s,
        **_per_pair(before, after, plan.creates),
    )


def _per_pair(before: CpuUsage | None, after: CpuUsage | None, pairs: int) -> dict[str, float]:
    if before is None or after is None:
        return {}
    return {
        "cpu_ms_per_pair": (after.user_s + after.system_s - before.user_s - before.system_s)
        / pairs
        * 1e3,
        "system_ms_per_pair": (after.system_s - before.system_s) / pairs * 1e3,
        "switches_per_pair": (after.voluntary_switches - before.voluntary_switches) / pairs,
    }


def measure(
    variants: Sequence[Variant], emu: EmulatorProcess, plan: Plan
) -> dict[str, list[ServerRun]]:
    """`plan.rounds` rounds; each round starts every variant once, the order rotating."""
    runs: dict[str, list[ServerRun]] = {v.key: [] for v in variants}
    for round_ in range(plan.rounds):
        shift = round_ % len(variants)
        for variant in [*variants[shift:], *variants[:shift]]:
            runs[variant.key].append(run_once(variant, emu, plan))
    return runs


FIGURES: dict[str, Callable[[ServerRun], float | None]] = {
    "ready_s": lambda r: r.ready_s,
    "first_check_s": lambda r: r.first_check_s,
    "first_create_s": lambda r: r.first_create_s,
    "to_first_create_s": lambda r: r.to_first_create_s,
    "creates_per_s": lambda r: r.creates_per_s,
    "peak_rss_mib": lambda r: None if r.peak_rss_kib is None else r.peak_rss_kib / 1024,
    "cpu_to_first_create_s": lambda r: r.cpu_to_first_create_s,
    "cpu_ms_per_pair": lambda r: r.cpu_ms_per_pair,
    "system_ms_per_pair": lambda r: r.system_ms_per_pair,
    "switches_per_pair": lambda r: r.switches_per_pair,
}


def summarise(runs: Mapping[str, list[ServerRun]]) -> dict[str, Any]:
    """Per variant each figure's median and range; per round ratios between the variants."""
    figures: dict[str, dict[str, Any]] = {}
    for key, each in runs.items():
        figures[key] = {}
        for name, get in FIGURES.items():
            values = [v for v in (get(r) for r in each) if v is not None]
            figures[key][name] = asdict(Spread.of(values)) if values else None
    comparisons: dict[str, dict[str, Any]] = {}
    pairs = [("ours", "bare"), ("ours", "sdk"), ("sdk", "bare")]
    for top, base in pairs:
        if top not in runs or base not in runs:
            continue
        entry: dict[str, Any] = {}
        for name in (
            "to_first_create_s",
            "creates_per_s",
            "peak_rss_mib",
            "cpu_to_first_create_s",
            "cpu_ms_per_pair",
            "system_ms_per_pair",
            "switches_per_pair",
        ):
            get = FIGURES[name]
            tops = [get(r) for r in runs[top]]
            bases = [get(r) for r in runs[base]]
            if any(v is None for v in (*tops, *bases)):
                entry[name] = None
                continue
            spread = ratios([float(v or 0) for v in tops], [float(v or 0) for v in bases])
            entry[name] = None if spread is None else asdict(spread)
        comparisons[f"{top}/{base}"] = entry
    return {"figures": figures, "ratios": comparisons}


def raw(runs: Mapping[str, list[ServerRun]]) -> dict[str, list[dict[str, Any]]]:
    return {key: [asdict(r) for r in each] for key, each in runs.items()}

"""Diagnosis (b): where a warm Check+Create spends its time, per variant.

1. Per-call split, one call at a time (no profiler): the server's RPC time and, inside it, the
   provider's own method (`instrumented_server.py`'s trace). The difference is the SDK's server:
   unpickling lookups, (de)serialising properties, a new asyncio loop per call.
2. cProfile of every RPC on the server's worker threads under `concurrency` concurrent
   Check+Create pairs, after the first calls: self time by package, the top functions, and the
   cumulative time of functions worth watching (requests' per-request environment work,
   pydantic validation, email validation, the SDK's property serialisation).
3. HTTP stacks alone, in this process, sequential POST /reset-password on one keep-alive
   connection: http.client, urllib3 (our venv's), requests.Session with and without
   `trust_env`, and `requests.utils.get_environ_proxies` by itself (what trust_env adds).
"""

from __future__ import annotations

import http.client
import importlib.metadata
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from bench_common import EmulatorProcess, Plan
from bench_servers import Variant, check_and_create, concurrently, configure, provider_config
from instrumented import instrumented

from pulumi_metal_reset.emulator import DEV_TOKEN

#: Functions whose cumulative time is reported when they appear in a profile (name contains).
WATCH = (
    "requests sessions.py:request",
    "requests sessions.py:merge_environment_settings",
    "requests utils.py:get_environ_proxies",
    "requests utils.py:should_bypass_proxies",
    "stdlib:request request.py:proxy_bypass",
    "requests sessions.py:prepare_request",
    "requests adapters.py:send",
    "urllib3 connectionpool.py:urlopen",
    "pydantic main.py:model_validate",
    "pydantic type_adapter.py:validate_python",
    "email_validator validate_email.py:validate_email",
    "pulumi rpc.py:serialize_properties",
    "pulumi rpc.py:deserialize_properties",
    "stdlib:events events.py:new_event_loop",
    "stdlib:base_events base_events.py:run_until_complete",
    "equinix_metal api_client.py:call_api",
    "pydantic validate_call_decorator.py:wrapper_function",
)


def per_call_split(variant: Variant, emu: EmulatorProcess, calls: int) -> dict[str, Any]:
    """Median milliseconds per RPC and inside the provider's method, calls made one at a time."""
    with tempfile.TemporaryDirectory(prefix="bench-trace-") as tmp:
        trace = Path(tmp) / "trace.jsonl"
        with instrumented(variant, {"BENCH_TRACE": str(trace)}) as server:
            configure(server, provider_config(emu))
            for n in range(calls + 1):
                check_and_create(server, variant.blob, f"split{n}")
        rows = [json.loads(line) for line in trace.read_text().splitlines()]
    result: dict[str, Any] = {}
    for rpc in ("Check", "Create"):
        warm = [r for r in rows if r["rpc"] == rpc][1:]  # the first call imports; left out
        rpc_ms = statistics.median(r["s"] for r in warm) * 1e3
        provider_ms = statistics.median(r["provider_s"] for r in warm) * 1e3
        result[rpc] = {
            "rpc_ms": rpc_ms,
            "provider_ms": provider_ms,
            "server_ms": rpc_ms - provider_ms,
        }
    return result


def _package(path: str) -> str:
    if path.startswith("~") or path.startswith("<"):
        return "builtins"
    parts = Path(path).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    if "pulumi_metal_reset" in parts:
        return "pulumi_metal_reset"
    if "benchmarks" in parts:
        return "benchmarks"
    return "stdlib:" + Path(path).stem


def _label(func: tuple[str, int, str]) -> str:
    """`<package> <file>:<function>`, e.g. `requests sessions.py:request`."""
    path, _, name = func
    if path.startswith("~") or path.startswith("<"):
        return f"builtins {name}"
    return f"{_package(path)} {Path(path).name}:{name}"


#: Why (b)(2) cannot run on Python 3.12 and later, where every variant's server runs too (the
#: SDK's venv is made from this interpreter).
PROFILER_PER_THREAD = (
    "not run: from Python 3.12 cProfile runs on sys.monitoring, which allows one active profiler "
    "per process, so the worker threads' concurrent RPCs cannot each be profiled; py-spy's "
    "samples (4) cover the same load"
)


def profile_under_load(variant: Variant, emu: EmulatorProcess, plan: Plan) -> dict[str, Any]:
    """cProfile of the warm RPCs of `plan.profile_creates` concurrent Check+Create pairs."""
    if sys.version_info >= (3, 12):
        return {"skipped": PROFILER_PER_THREAD}
    with tempfile.TemporaryDirectory(prefix="bench-prof-") as tmp:
        path = Path(tmp) / "server.pstats"
        # Skip Configure and the first Check and Create: they import, the rest is steady state.
        env = {"BENCH_PROFILE": str(path), "BENCH_PROFILE_SKIP": "3"}
        with instrumented(variant, env) as server:
            configure(server, provider_config(emu))
            check_and_create(server, variant.blob, "prof-first")
            wall, _ = concurrently(
                lambda n: check_and_create(server, variant.blob, f"prof{n}"),
                plan.profile_creates,
                plan.concurrency,
            )
            server.terminate_and_wait()
        if not path.exists():
            raise RuntimeError(f"{variant.key}: the instrumented server wrote no profile")
        stats = pstats.Stats(str(path))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in raw.values())
    per_pair_ms = total / plan.profile_creates * 1e3
    packages: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    cumulative: dict[str, float] = {}
    for func, (_, _, tt, ct, _) in raw.items():
        label = _label(func)
        packages[label.split(" ")[0]] += tt
        functions[label] += tt
        if label in WATCH:
            cumulative[label] = cumulative.get(label, 0.0) + ct
    pairs = plan.profile_creates

    def per_pair(seconds: float) -> float:
        return seconds / pairs * 1e3

    return {
        "pairs": pairs,
        "wall_s_under_profiler": wall,
        "profiled_ms_per_pair": per_pair_ms,
        "self_ms_per_pair_by_package": {p: per_pair(s) for p, s in packages.most_common(10)},
        "top_functions_self_ms_per_pair": {f: per_pair(s) for f, s in functions.most_common(12)},
        "watched_cumulative_ms_per_pair": {
            f: per_pair(s) for f, s in sorted(cumulative.items(), key=lambda kv: -kv[1])
        },
    }


def collections_under_load(variant: Variant, emu: EmulatorProcess, plan: Plan) -> dict[str, Any]:
    """Garbage collections in the server during `plan.profile_creates` concurrent pairs.

    A full (generation 2) collection walks every object the process holds: the SDK's server,
    grpc and protobuf, and whatever the provider imported, so its cost grows with the heap.
    """
    with instrumented(variant, {"BENCH_GC": "1"}) as server:
        configure(server, provider_config(emu))
        check_and_create(server, variant.blob, "gc-first")
        server.wait_for_output("@@bench gc", timeout=0.2)  # let the reader catch up
        before = len(server.output())
        wall, _ = concurrently(
            lambda n: check_and_create(server, variant.blob, f"gc{n}"),
            plan.profile_creates,
            plan.concurrency,
        )
        time.sleep(0.2)  # the stderr reader thread catches up
        lines = server.output()[before:].splitlines()
    by_generation: dict[int, list[float]] = {0: [], 1: [], 2: []}
    for line in lines:
        if line.startswith("@@bench gc "):
            _, _, generation, ms = line.split()
            by_generation[int(generation)].append(float(ms))
    total_ms = sum(sum(v) for v in by_generation.values())
    return {
        "pairs": plan.profile_creates,
        "wall_s": wall,
        "collections": {str(g): len(v) for g, v in by_generation.items()},
        "ms": {str(g): sum(v) for g, v in by_generation.items()},
        "full_collection_ms_each": statistics.median(by_generation[2])
        if by_generation[2]
        else None,
        "ms_per_pair": total_ms / plan.profile_creates,
        "share_of_wall": total_ms / 1e3 / wall if wall > 0 else None,
    }


# --- 3. HTTP stacks alone ------------------------------------------------------------------------


def _per_call_ms(call: Callable[[], None], calls: int) -> float:
    for _ in range(min(50, calls)):
        call()
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1e3


def http_stacks(emu: EmulatorProcess, calls: int) -> dict[str, float]:
    """Median ms per sequential POST /reset-password (keep-alive) for each HTTP stack."""
    import requests
    import requests.utils
    import urllib3

    parts = urlsplit(emu.url)
    path = f"{parts.path}/reset-password?email={quote('stack@example.com', safe='')}"
    url = emu.root + path
    headers = {"X-Auth-Token": DEV_TOKEN}
    results: dict[str, float] = {}

    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)

    def bare() -> None:
        conn.request("POST", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 201:
            raise RuntimeError(f"HTTP {response.status}")

    results["http.client"] = _per_call_ms(bare, calls)
    conn.close()

    pool = urllib3.PoolManager(maxsize=4)

    def with_urllib3() -> None:
        if pool.request("POST", url, headers=headers).status != 201:
            raise RuntimeError("urllib3 POST failed")

    version = importlib.metadata.version("urllib3")
    results[f"urllib3 {version} PoolManager"] = _per_call_ms(with_urllib3, calls)
    pool.clear()

    for trust_env in (True, False):
        session = requests.Session()
        session.trust_env = trust_env

        def with_requests(session: requests.Session = session) -> None:
            session.post(url, headers=headers, timeout=10).raise_for_status()

        results[f"requests.Session trust_env={trust_env}"] = _per_call_ms(with_requests, calls)
        session.close()

    # This package's client, as the provider builds it: requests, on its mounted adapter.
    from pulumi_metal_reset.client import MetalClient
    from pulumi_metal_reset.settings import connection_for

    config = {"equinix:endpoint": emu.url, "equinix:authToken": DEV_TOKEN}
    client = MetalClient(connection_for({}, config, {}))

    def with_client() -> None:
        client.create_password_reset_token("stack@example.com")

    results["pulumi_metal_reset MetalClient"] = _per_call_ms(with_client, calls)

    def environ_proxies() -> None:
        requests.utils.get_environ_proxies(url, no_proxy=None)

    results["requests.utils.get_environ_proxies alone"] = _per_call_ms(environ_proxies, calls)
    results["environment variables"] = float(len(os.environ))
    return results

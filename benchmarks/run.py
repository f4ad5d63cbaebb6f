"""Side-by-side benchmarks: our client and provider against bare standard-library baselines.

Not a test: nothing here passes or fails on speed. Absolute times depend on the machine; the
ratio columns (ours / bare) are what to compare across machines and commits. Every benchmark is
bounded in count and in time and stops by itself; all traffic stays on loopback.

    .venv/bin/python benchmarks/run.py [--quick] [--json PATH]

Sections (README.md explains every figure):
1. per-call client latency against the emulator, sequential keep-alive DELETEs;
2. the real `python -m pulumi.dynamic` server: time to the first Create from process start, and
   creates per second with four concurrent Check+Create calls;
3. provider-process import cost, and which heavy modules wait for the first create.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import http.client
import json
import math
import os
import platform
import re
import select
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from bare_provider import BareProvider
from google.protobuf import struct_pb2
from naive_provider import NaiveRequestsProvider
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2

from pulumi_metal_reset.client import MetalClient
from pulumi_metal_reset.emulator import DEV_TOKEN
from pulumi_metal_reset.provider import PasswordResetTokenProvider
from pulumi_metal_reset.settings import connection_for
from pulumi_metal_reset.testing.provider_server import ProviderServer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
URN = "urn:pulumi:bench::bench::pulumi-python:dynamic/metal:PasswordResetToken::bench"
RPC_TIMEOUT = 30.0  # seconds per gRPC call: a hung server ends the run instead of stalling it


@dataclass(frozen=True)
class Plan:
    """How much each section does; `--quick` shrinks every count, not the method."""

    latency_calls: int
    latency_warmup: int
    latency_deadline_s: float
    creates: int
    concurrency: int
    create_deadline_s: float
    import_runs: int
    server_starts: int  # fresh provider processes per variant; each figure is their median


FULL = Plan(2000, 200, 20.0, 200, 4, 30.0, 7, 3)
QUICK = Plan(300, 50, 5.0, 40, 4, 10.0, 3, 1)


# --- helpers -----------------------------------------------------------------------------------


def loopback_only() -> None:
    """Keep requests (here and in child processes) off any proxy from the environment."""
    for key in ("NO_PROXY", "no_proxy"):
        current = [h for h in os.environ.get(key, "").split(",") if h]
        os.environ[key] = ",".join([*current, "127.0.0.1", "localhost"])


def child_env() -> dict[str, str]:
    """PYTHONPATH for child interpreters: benchmarks/ (bare providers) and the repo root."""
    paths = [str(HERE), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(paths)}


def ratio(value: float, base: float) -> float | None:
    return value / base if base > 0 else None


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _aligned(cells: Sequence[str], widths: Sequence[int]) -> str:
    """The first column left-aligned (names), the others right-aligned (numbers)."""
    pairs = enumerate(zip(cells, widths, strict=True))
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = _aligned(headers, widths)
    print(f"\n{title}\n{line}\n{'-' * len(line)}")
    for row in rows:
        print(_aligned(row, widths))


@dataclass
class EmulatorProcess:
    """The emulator in its own process, so its threads do not share our GIL with the clients."""

    url: str = ""
    proc: subprocess.Popen[str] | None = field(default=None, repr=False)

    @property
    def root(self) -> str:
        return self.url.removesuffix("/metal/v1")

    def _control(self, method: str) -> Any:
        parts = urlsplit(self.root)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
        try:
            conn.request(method, "/_emulator/journal")
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def clear_journal(self) -> None:
        self._control("DELETE")

    def journal_methods(self) -> Counter[str]:
        """Successful API requests by method: proof that the calls timed really reached it."""
        entries = self._control("GET")["entries"]
        return Counter(e["method"] for e in entries if e["status"] == 201)


@contextmanager
def emulator_process() -> Iterator[EmulatorProcess]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pulumi_metal_reset.emulator", "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 15)
        line = proc.stdout.readline().strip() if ready else ""
        if not line.endswith("/metal/v1"):
            raise SystemExit(
                "the emulator did not start; run `python -m pulumi_metal_reset.emulator` to see why"
            )
        yield EmulatorProcess(line, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- 1. client latency -------------------------------------------------------------------------


@dataclass
class Latency:
    name: str
    calls: int
    median_ms: float
    p95_ms: float
    median_ratio: float | None = None
    p95_ratio: float | None = None


def time_calls(name: str, call: Callable[[], None], plan: Plan) -> Latency:
    """Warm up (connect, first imports), then time each call; stop at the count or the deadline."""
    for _ in range(plan.latency_warmup):
        call()
    gc.collect()
    timings: list[float] = []
    deadline = time.perf_counter() + plan.latency_deadline_s
    while len(timings) < plan.latency_calls and time.perf_counter() < deadline:
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    timings.sort()
    p95 = timings[max(0, math.ceil(0.95 * len(timings)) - 1)]
    return Latency(name, len(timings), statistics.median(timings) * 1e3, p95 * 1e3)


def client_latency(emu: EmulatorProcess, plan: Plan) -> list[Latency]:
    parts = urlsplit(emu.url)
    path = parts.path + "/reset-password"
    url = emu.url + "/reset-password"
    headers = {"X-Auth-Token": DEV_TOKEN}

    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)

    def bare() -> None:
        conn.request("DELETE", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 201 or not body:
            raise RuntimeError(f"bare DELETE answered HTTP {response.status}")

    session = requests.Session()

    def pooled_requests() -> None:
        session.delete(url, headers=headers, timeout=10).raise_for_status()

    def naive_requests() -> None:
        requests.delete(url, headers=headers, timeout=10).raise_for_status()

    config = {"equinix:endpoint": emu.url, "equinix:authToken": DEV_TOKEN}
    client = MetalClient(connection_for({}, config, {}))

    def ours() -> None:
        client.reset_password()

    variants: list[tuple[str, Callable[[], None]]] = [
        ("bare http.client (keep-alive)", bare),
        ("requests.Session (keep-alive)", pooled_requests),
        ("naive requests (Session per call)", naive_requests),
        ("MetalClient.reset_password()", ours),
    ]
    results = []
    for name, call in variants:
        emu.clear_journal()
        result = time_calls(name, call, plan)
        served = emu.journal_methods()["DELETE"]
        if served != plan.latency_warmup + result.calls:
            raise RuntimeError(f"{name}: the emulator served {served} DELETEs, not the calls timed")
        results.append(result)
    conn.close()
    session.close()
    base = results[0]
    for result in results:
        result.median_ratio = ratio(result.median_ms, base.median_ms)
        result.p95_ratio = ratio(result.p95_ms, base.p95_ms)
    return results


# --- 2. the real provider server ---------------------------------------------------------------


@dataclass
class ServerRun:
    name: str
    ready_s: float  # process start until the gRPC port answers: python + pulumi.dynamic + grpc
    configure_s: float
    first_check_s: float  # includes dill.loads, i.e. importing the provider's module, + configure
    first_create_s: float  # includes whatever the provider imports on first use
    to_first_create_s: float
    creates: int
    creates_wall_s: float
    creates_per_s: float
    first_create_ratio: float | None = None
    creates_per_s_ratio: float | None = None


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(values)
    return out


def _check_and_create(server: ProviderServer, blob: str, email: str) -> tuple[float, float]:
    """One resource as the engine creates it: Check, then Create with the checked inputs."""
    started = time.perf_counter()
    news = _struct({"email": email, "__provider": blob})
    checked = server.stub.Check(
        provider_pb2.CheckRequest(urn=URN, olds=_struct({}), news=news), timeout=RPC_TIMEOUT
    )
    if list(checked.failures):
        raise RuntimeError(f"Check failed: {[(f.property, f.reason) for f in checked.failures]}")
    checked_at = time.perf_counter()
    created = server.stub.Create(
        provider_pb2.CreateRequest(urn=URN, properties=checked.inputs), timeout=RPC_TIMEOUT
    )
    if not created.id:
        raise RuntimeError("Create returned no id")
    return checked_at - started, time.perf_counter() - checked_at


def provider_server_run(
    name: str, blob: str, emu: EmulatorProcess, plan: Plan, workdir: Path
) -> ServerRun:
    """A fresh provider process per variant, so each first create pays its own imports."""
    emu.clear_journal()
    config = {
        "equinix:endpoint": emu.url,
        "equinix:authToken": DEV_TOKEN,
        "equinix:requestTimeout": "10",
    }
    started = time.perf_counter()
    with ProviderServer(workdir, project="bench", env=child_env()) as server:
        ready = time.perf_counter()
        server.stub.Configure(
            provider_pb2.ConfigureRequest(args=_struct(config), acceptSecrets=True),
            timeout=RPC_TIMEOUT,
        )
        configured = time.perf_counter()
        check_s, create_s = _check_and_create(server, blob, "first@example.com")
        first = time.perf_counter()

        deadline = first + plan.create_deadline_s

        def one(n: int) -> bool:
            if time.perf_counter() > deadline:
                return False
            _check_and_create(server, blob, f"u{n}@example.com")
            return True

        with ThreadPoolExecutor(max_workers=plan.concurrency) as pool:
            began = time.perf_counter()
            done = sum(pool.map(one, range(plan.creates)))
            wall = time.perf_counter() - began
    posts = emu.journal_methods()["POST"]
    if posts != done + 1:
        raise RuntimeError(f"{name}: the emulator served {posts} POSTs for {done + 1} creates")
    return ServerRun(
        name=name,
        ready_s=ready - started,
        configure_s=configured - ready,
        first_check_s=check_s,
        first_create_s=create_s,
        to_first_create_s=first - started,
        creates=done,
        creates_wall_s=wall,
        creates_per_s=done / wall if wall > 0 else 0.0,
    )


def _median_run(runs: Sequence[ServerRun]) -> ServerRun:
    """Each figure's median over the starts (so the phases need not add up to the total)."""

    def med(key: Callable[[ServerRun], float]) -> float:
        return statistics.median(key(r) for r in runs)

    return ServerRun(
        name=runs[0].name,
        ready_s=med(lambda r: r.ready_s),
        configure_s=med(lambda r: r.configure_s),
        first_check_s=med(lambda r: r.first_check_s),
        first_create_s=med(lambda r: r.first_create_s),
        to_first_create_s=med(lambda r: r.to_first_create_s),
        creates=sum(r.creates for r in runs),
        creates_wall_s=sum(r.creates_wall_s for r in runs),
        creates_per_s=med(lambda r: r.creates_per_s),
    )


def provider_servers(emu: EmulatorProcess, plan: Plan, blobs: dict[str, str]) -> list[ServerRun]:
    """Starts interleave the variants, so drifting load on the machine hits each alike."""
    starts: dict[str, list[ServerRun]] = {name: [] for name in blobs}
    for _ in range(plan.server_starts):
        for name, blob in blobs.items():
            starts[name].append(provider_server_run(name, blob, emu, plan, HERE))
    runs = [_median_run(each) for each in starts.values()]
    base = runs[0]
    for run in runs:
        run.first_create_ratio = ratio(run.to_first_create_s, base.to_first_create_s)
        run.creates_per_s_ratio = ratio(run.creates_per_s, base.creates_per_s)
    return runs


# --- 3. import cost and deferred modules -------------------------------------------------------


@dataclass
class ImportCost:
    name: str
    statement: str
    best_ms: float
    added_ms: float | None = None
    ratio: float | None = None


IMPORTS = [
    ("interpreter only", "pass"),
    ("pulumi.dynamic (what the server imports)", "import pulumi.dynamic"),
    ("+ bare_provider", "import pulumi.dynamic, bare_provider"),
    ("+ pulumi_metal_reset.provider", "import pulumi.dynamic, pulumi_metal_reset.provider"),
    (
        "+ provider + client (after 1st create)",
        "import pulumi.dynamic, pulumi_metal_reset.provider, pulumi_metal_reset.client",
    ),
]


def _timed_child(command: list[str], env: dict[str, str], limit_s: float = 60.0) -> float:
    """Wall time of a child process, waited for by a blocking waitpid.

    Not `subprocess.run(timeout=...)`: with a timeout, Popen.wait polls with sleeps of up to
    50 ms, which rounds every figure to a multiple of 50 ms. A timer kills a hung child instead.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)
    watchdog = threading.Timer(limit_s, proc.kill)
    watchdog.start()
    try:
        code = proc.wait()
    finally:
        watchdog.cancel()
    elapsed = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"{command[1:]} exited with {code}")
    return elapsed


def import_costs(plan: Plan) -> list[ImportCost]:
    """Best of N wall times of a fresh interpreter; the baseline row is `import pulumi.dynamic`.

    Rounds interleave the statements, after one discarded round that warms the file cache, so a
    burst of load on the machine hits every row alike instead of one.
    """
    env = os.environ | child_env()
    best = [math.inf] * len(IMPORTS)
    for round_ in range(plan.import_runs + 1):
        for i, (_, statement) in enumerate(IMPORTS):
            elapsed = _timed_child([sys.executable, "-c", statement], env)
            if round_:
                best[i] = min(best[i], elapsed)
    costs = [ImportCost(n, s, b * 1e3) for (n, s), b in zip(IMPORTS, best, strict=True)]
    base = costs[1]
    for cost in costs[1:]:
        cost.added_ms = cost.best_ms - base.best_ms
        cost.ratio = ratio(cost.best_ms, base.best_ms)
    return costs


@dataclass
class ImportBreakdown:
    """Self import times (ms) of what `pulumi_metal_reset.provider` adds to `pulumi.dynamic`."""

    by_package: dict[str, float]
    top_modules: dict[str, float]


def import_breakdown(top: int = 5) -> ImportBreakdown:
    """One `-X importtime` run: where the provider module's extra import time goes."""
    statement = "import pulumi.dynamic; import pulumi_metal_reset.provider"
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        env=os.environ | child_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stderr.splitlines()
    pattern = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|( *)(\S+)")
    rows = [(int(m[1]), len(m[2]), m[3]) for line in err if (m := pattern.match(line))]
    # Everything after the top-level `pulumi.dynamic` line was imported by our provider module.
    start = max(
        i for i, (_, depth, name) in enumerate(rows) if name == "pulumi.dynamic" and depth <= 1
    )
    added = rows[start + 1 :]
    packages: Counter[str] = Counter()
    for self_us, _, name in added:
        packages[name.split(".")[0]] += self_us
    modules = Counter({name: self_us for self_us, _, name in added})
    return ImportBreakdown(
        {package: us / 1e3 for package, us in packages.most_common(top)},
        {module: us / 1e3 for module, us in modules.most_common(top)},
    )


def module_probe(emu: EmulatorProcess, blob: str) -> dict[str, list[str]]:
    out = subprocess.run(
        [sys.executable, str(HERE / "probe_modules.py"), emu.url, DEV_TOKEN],
        input=blob,
        env=os.environ | child_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    probed: dict[str, list[str]] = json.loads(out.strip().splitlines()[-1])
    return probed


# --- main --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller counts (about 15 s)")
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    loopback_only()
    began = time.perf_counter()
    blobs = {
        "bare http.client provider": serialize_provider(BareProvider()),
        "PasswordResetTokenProvider": serialize_provider(PasswordResetTokenProvider()),
        "naive requests provider": serialize_provider(NaiveRequestsProvider()),
    }
    print(
        f"pulumi-metal-reset benchmarks ({'quick' if args.quick else 'full'} run), "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, emulator on loopback"
    )

    with emulator_process() as emu:
        latencies = client_latency(emu, plan)
        print_table(
            f"1. Client latency, sequential keep-alive DELETE /reset-password "
            f"({plan.latency_warmup} warm-up calls, then up to {plan.latency_calls})",
            ["variant", "calls", "median ms", "p95 ms", "median vs bare", "p95 vs bare"],
            [
                [
                    r.name,
                    str(r.calls),
                    f"{r.median_ms:.3f}",
                    f"{r.p95_ms:.3f}",
                    fmt_ratio(r.median_ratio),
                    fmt_ratio(r.p95_ratio),
                ]
                for r in latencies
            ],
        )

        runs = provider_servers(emu, plan, blobs)
        print_table(
            f"2. Real provider server (python -m pulumi.dynamic): {plan.server_starts} fresh "
            f"process(es) per variant, each to its 1st Create, then {plan.creates} Check+Create "
            f"{plan.concurrency} at a time; medians",
            [
                "variant",
                "ready s",
                "configure s",
                "1st check s",
                "1st create s",
                "to 1st create s",
                "vs bare",
                "creates",
                "creates/s",
                "vs bare",
            ],
            [
                [
                    r.name,
                    f"{r.ready_s:.3f}",
                    f"{r.configure_s:.3f}",
                    f"{r.first_check_s:.3f}",
                    f"{r.first_create_s:.3f}",
                    f"{r.to_first_create_s:.3f}",
                    fmt_ratio(r.first_create_ratio),
                    str(r.creates),
                    f"{r.creates_per_s:.0f}",
                    fmt_ratio(r.creates_per_s_ratio),
                ]
                for r in runs
            ],
        )

        probed = module_probe(emu, blobs["PasswordResetTokenProvider"])

    costs = import_costs(plan)
    print_table(
        f"3. Provider-process import cost, fresh interpreter, best of {plan.import_runs}",
        ["imports", "best ms", "added ms", "vs pulumi.dynamic"],
        [
            [
                c.name,
                f"{c.best_ms:.0f}",
                "-" if c.added_ms is None else f"{c.added_ms:+.0f}",
                fmt_ratio(c.ratio),
            ]
            for c in costs
        ],
    )
    breakdown = import_breakdown()
    print(
        "   where pulumi_metal_reset.provider's extra import time goes (-X importtime, self ms)\n"
        "     by package: "
        + ", ".join(f"{p} {ms:.0f}" for p, ms in breakdown.by_package.items())
        + "\n     by module:  "
        + ", ".join(f"{m} {ms:.0f}" for m, ms in breakdown.top_modules.items())
    )
    deferred = [m for m in probed["installed"] if m not in probed["before_create"]]
    by_create = [m for m in probed["after_create"] if m not in probed["before_create"]]
    print(
        "   our provider process, after import + Configure + Check:\n"
        f"     NOT loaded before the first create: {', '.join(deferred) or 'none'}\n"
        f"     loaded by the first create:         {', '.join(by_create) or 'none'}\n"
        f"     already loaded before it:           {', '.join(probed['before_create']) or 'none'}"
    )
    elapsed = time.perf_counter() - began
    print(f"\ntotal {elapsed:.1f} s. Ratios are ours / bare: compare those, not absolute times.")

    if args.json:
        results = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "quick": args.quick,
            "plan": asdict(plan),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "client_latency": [asdict(r) for r in latencies],
            "provider_server": [asdict(r) for r in runs],
            "imports": [asdict(c) for c in costs],
            "import_breakdown_ms": asdict(breakdown),
            "modules": {**probed, "deferred_past_first_create": deferred},
            "elapsed_s": elapsed,
        }
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What every benchmark section shares: the plan, statistics, tables and the emulator process.

Nothing here knows which provider is measured. Every child process the benchmark starts talks
only to the emulator on 127.0.0.1 (proxy variables are bypassed for loopback).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import statistics
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: The gRPC deadline per call: a hung server ends the run instead of stalling it.
RPC_TIMEOUT = 60.0


@dataclass(frozen=True)
class Plan:
    """How much each section does; smaller plans shrink the counts, never the method."""

    name: str
    #: Fresh provider processes per variant, interleaved; every figure is a median over them.
    rounds: int
    #: Check+Create pairs per process after the first create, `concurrency` at a time.
    creates: int
    concurrency: int
    #: Resources created against the emulator answering `rate_limit_rate` of requests with 429.
    rate_limited: int
    #: Resource counts of the test-engine program (preview and up each).
    scaling: tuple[int, ...]
    #: Repeats of each scaling size (medians); sizes above `scaling_repeat_max` run once.
    scaling_repeats: int
    scaling_repeat_max: int
    #: Check+Create pairs profiled in the diagnosis (4 at a time).
    profile_creates: int
    #: Which variants the diagnosis covers (the smoke run keeps to ours, for time).
    diagnose: tuple[str, ...] = ("bare", "sdk", "ours")


FULL = Plan("full", 7, 200, 4, 200, (10, 100, 500, 1000), 3, 100, 400)
QUICK = Plan("quick", 2, 60, 4, 40, (10, 50, 200), 1, 0, 120)
SMOKE = Plan("smoke", 1, 8, 4, 8, (2, 4), 1, 0, 8, ("ours",))
PLANS = {plan.name: plan for plan in (FULL, QUICK, SMOKE)}

#: Retry-After seconds and the share of API requests the rate-limited emulator answers with 429.
RATE_LIMIT_RATE = 0.3
RETRY_AFTER_S = 1


def loopback_only() -> None:
    """Keep HTTP clients here and in every child process off any proxy for loopback."""
    for key in ("NO_PROXY", "no_proxy"):
        current = [h for h in os.environ.get(key, "").split(",") if h]
        os.environ[key] = ",".join([*current, "127.0.0.1", "localhost"])


def byte_compile() -> dict[str, Any]:
    """Compile the package's and the benchmarks' modules to bytecode, as pip does when it
    installs a wheel, so every provider process loads them as a user's would.

    Run from this source tree, the package has no `.pyc` until a process writes one, and these
    machines set PYTHONDONTWRITEBYTECODE=1, so no process ever does: each provider process would
    compile the package's ~25 modules from source, about 20 ms of CPU and 1 to 2 MiB of peak
    memory before its first create that no installed copy costs. The other variants run from
    site-packages, already compiled by pip (the bare provider, one small module, is compiled
    here too).
    """
    import compileall

    skip = re.compile(r"[/\\]\.venv")  # the SDK's venv: pip compiled it
    done = [
        compileall.compile_dir(ROOT / "pulumi_metal_reset", quiet=1),
        compileall.compile_dir(HERE, quiet=1, rx=skip),
    ]
    return {
        "compiled": ["pulumi_metal_reset", "benchmarks"],
        "ok": all(done),
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
    }


def child_env(*, with_repo: bool = True) -> dict[str, str]:
    """PYTHONPATH for child interpreters: benchmarks/ (the baseline providers), the repo root."""
    paths = [str(HERE), *([str(ROOT)] if with_repo else [])]
    return {"PYTHONPATH": os.pathsep.join(paths)}


# --- statistics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """Median and range of repeated measurements; `n` says how many there were."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("no measurements")
        return cls(statistics.median(values), min(values), max(values), len(values))

    def fmt(self, digits: int = 3, suffix: str = "") -> str:
        """`median [low-high]`, or just the median for a single measurement."""
        if self.n == 1:
            return f"{self.median:.{digits}f}{suffix}"
        return f"{self.median:.{digits}f}{suffix} [{self.low:.{digits}f}-{self.high:.{digits}f}]"


def ratios(values: Sequence[float], bases: Sequence[float]) -> Spread | None:
    """Per-round ratios (measured side by side), summarised; None when a base is zero."""
    if not values or len(values) != len(bases) or any(b <= 0 for b in bases):
        return None
    return Spread.of([v / b for v, b in zip(values, bases, strict=True)])


def fmt_ratio(spread: Spread | None) -> str:
    return "-" if spread is None else spread.fmt(2, "x")


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain text table: the first column left-aligned (names), the others right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs)

    header = line(headers)
    print(f"\n{title}\n{header}\n{'-' * len(header)}", flush=True)
    for row in rows:
        print(line(row), flush=True)


def peak_rss_kib(pid: int | None) -> tuple[int | None, int | None]:
    """(VmHWM, VmRSS) of a live process in KiB from /proc; (None, None) where there is no /proc."""
    if pid is None:
        return None, None
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None, None
    found: dict[str, int] = {}
    for row in text.splitlines():
        key, _, value = row.partition(":")
        if key in ("VmHWM", "VmRSS"):
            found[key] = int(value.split()[0])
    return found.get("VmHWM"), found.get("VmRSS")


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a live process, from /proc/<pid>/stat."""
    usage = cpu_usage(pid)
    return None if usage is None else usage.user_s + usage.system_s


@dataclass(frozen=True)
class CpuUsage:
    """A live process's CPU so far, split as the kernel counts it (10 ms ticks)."""

    user_s: float
    system_s: float
    #: Times one of its threads gave up the CPU to wait: for the GIL, a lock or a socket.
    voluntary_switches: int


def cpu_usage(pid: int | None) -> CpuUsage | None:
    """From /proc/<pid>/stat and each thread's /proc/<pid>/task/<tid>/status; None without."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except (OSError, IndexError):
        return None
    switches = 0
    for task in tasks:
        try:
            rows = (task / "status").read_text().splitlines()
        except OSError:
            continue  # a thread that ended since the listing
        switches += sum(int(r.split()[1]) for r in rows if r.startswith("voluntary_ctxt_switches:"))
    ticks = os.sysconf("SC_CLK_TCK")
    return CpuUsage(int(fields[11]) / ticks, int(fields[12]) / ticks, switches)


# --- the emulator in its own process -----------------------------------------------------------


@dataclass
class EmulatorProcess:
    """The emulator in its own process, so its threads do not share a GIL with the clients."""

    url: str = ""
    proc: subprocess.Popen[str] | None = field(default=None, repr=False)

    @property
    def root(self) -> str:
        return self.url.removesuffix("/metal/v1")

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        parts = urlsplit(self.root)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        try:
            payload = None if body is None else json.dumps(body)
            headers = {} if body is None else {"Content-Type": "application/json"}
            conn.request(method, f"/_emulator/{path}", body=payload, headers=headers)
            response = conn.getresponse()
            data = json.loads(response.read())
            if response.status >= 300:
                raise RuntimeError(f"emulator control {method} {path}: {data}")
            return data
        finally:
            conn.close()

    def clear_journal(self) -> None:
        self.control("DELETE", "journal")

    def journal(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.control("GET", "journal")["entries"]
        return entries

    def successful(self, method: str) -> int:
        """Applied API requests of one method: proof that the calls timed really reached it."""
        return sum(1 for e in self.journal() if e["method"] == method and e["status"] == 201)

    def set_faults(self, **config: Any) -> None:
        """Replace the fault configuration (restarts the seeded draws)."""
        self.control("PUT", "faults", config)


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
        ready, _, _ = select.select([proc.stdout], [], [], 30)
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

"""Where the CPU goes, by sampling with py-spy, which keeps only threads that are running.

cProfile counts a call's waits (for the GIL, for the socket) as that call's time; on a GIL the
four server threads spend much of their time waiting, so running-thread samples are the cleaner
answer to "what is the CPU doing". Samples inside an import are counted apart (a fixed cost of
the process, not of a call). Two uses:

- the provider server under `concurrency` concurrent Check+Create pairs (py-spy attached to its
  pid for the duration of the load);
- one test-engine `up` of the scaling program (py-spy runs `scale_child.py` with
  `--subprocesses`, so the engine stand-in, the program (the Pulumi SDK) and the provider
  server are each sampled and told apart by their command lines).

py-spy is optional: `make bench` installs it into the venv; without it (or where ptrace is not
allowed) this part reports why it did not run, and nothing else changes.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench_common import EmulatorProcess, Plan
from bench_scaling import run_child
from bench_servers import Variant, check_and_create, concurrently, configure, provider_config
from bench_servers import start_server as start_plain_server

RATE = 250  # samples per second
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.+):(?P<line>\d+)\)$")
_SAMPLE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def _package(path: str) -> str:
    parts = Path(path).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    for ours in ("pulumi_metal_reset", "benchmarks"):
        if ours in parts:
            return ours
    return "stdlib" if path.startswith(("/", "<frozen")) else path


def _process_of(stack: list[str]) -> str:
    """What the innermost `process <pid>:"<cmdline>"` frame is; the root (whose command line
    py-spy may leave empty) is the process py-spy started: the engine stand-in."""
    commands = [frame for frame in stack if frame.startswith("process ")]
    command = commands[-1] if commands else ""
    if "pulumi.dynamic" in command or "instrumented_server" in command:
        return "provider"
    if "_run_program" in command:
        return "program"
    if "scale_child" in command or len(commands) <= 1:
        return "engine"
    return "other"


def _name(frame: re.Match[str]) -> str:
    return f"{_package(frame['file'])} {Path(frame['file']).name}:{frame['func']}"


def parse(raw: str) -> dict[str, dict[str, Counter[str]]]:
    """Samples per process, imports apart; for the rest the leaf package, the leaf function
    and every non-stdlib function on the stack (inclusive)."""
    out: dict[str, dict[str, Counter[str]]] = {}
    for line in raw.splitlines():
        sample = _SAMPLE.match(line.strip())
        if not sample:
            continue
        count = int(sample["count"])
        stack = sample["stack"].split(";")
        proc = out.setdefault(_process_of(stack), {})
        for key in ("total", "leaf_package", "leaf", "on_stack"):
            proc.setdefault(key, Counter())
        frames = [m for f in stack if (m := _FRAME.match(f)) and not f.startswith("process ")]
        if any(frame["func"] == "_find_and_load" for frame in frames):
            proc["total"]["imports"] += count
            continue
        proc["total"]["work"] += count
        if not frames:
            continue
        proc["leaf_package"][_package(frames[-1]["file"])] += count
        proc["leaf"][_name(frames[-1])] += count
        for name in {_name(f) for f in frames if _package(f["file"]) != "stdlib"}:
            proc["on_stack"][name] += count
    return out


def _summary(samples: dict[str, Counter[str]], units: int, top: int = 8) -> dict[str, Any]:
    """CPU milliseconds per unit (a Check+Create pair, or a resource); imports in total."""

    def ms(count: int) -> float:
        return count / RATE / units * 1e3

    return {
        "work_cpu_ms_per_unit": ms(samples["total"]["work"]),
        "imports_cpu_ms_total": samples["total"]["imports"] / RATE * 1e3,
        "leaf_package_ms": {k: ms(v) for k, v in samples["leaf_package"].most_common(top)},
        "leaf_function_ms": {k: ms(v) for k, v in samples["leaf"].most_common(top)},
        "on_stack_ms": {k: ms(v) for k, v in samples["on_stack"].most_common(2 * top)},
    }


def server_under_load(variant: Variant, emu: EmulatorProcess, plan: Plan) -> dict[str, Any]:
    tool = py_spy()
    if tool is None:
        return {"skipped": "py-spy is not installed (make bench installs it)"}
    with tempfile.TemporaryDirectory(prefix="bench-spy-") as tmp:
        out = Path(tmp) / "server.txt"
        with start_plain_server(variant) as server:
            configure(server, provider_config(emu))
            check_and_create(server, variant.blob, "spy-first")
            command = [tool, "record", "--pid", str(server.pid), "--nonblocking"]
            command += ["--rate", str(RATE), "--format", "raw", "--full-filenames"]
            spy = subprocess.Popen(
                [*command, "--output", str(out)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(0.5)  # py-spy attaches
            concurrently(
                lambda n: check_and_create(server, variant.blob, f"spy{n}"),
                plan.profile_creates,
                plan.concurrency,
            )
            spy.send_signal(signal.SIGINT)
            _, err = spy.communicate(timeout=60)
        if not out.exists():
            return {"skipped": f"py-spy wrote nothing: {err.strip().splitlines()[-1:]}"}
        parsed = parse(out.read_text())
    samples = parsed.get("provider") or parsed.get("other")
    if samples is None:
        return {"skipped": "py-spy recorded no samples"}
    return {"pairs": plan.profile_creates, **_summary(samples, plan.profile_creates)}


def scaling_up(emu: EmulatorProcess, count: int) -> dict[str, Any]:
    """One `up` of `count` resources, every process sampled; CPU ms per resource by process."""
    tool = py_spy()
    if tool is None:
        return {"skipped": "py-spy is not installed (make bench installs it)"}
    with tempfile.TemporaryDirectory(prefix="bench-spy-") as tmp:
        out = Path(tmp) / "scale.txt"
        prefix = [tool, "record", "--subprocesses", "--gil", "--nonblocking"]
        prefix += ["--rate", str(RATE), "--format", "raw", "--full-filenames"]
        prefix += ["--output", str(out), "--"]
        result = run_child(count, "up", emu, Path(tmp) / "state.json", prefix=prefix)
        if not out.exists():
            return {"skipped": "py-spy wrote nothing (is ptrace allowed here?)"}
        parsed = parse(out.read_text())
    return {
        "count": count,
        "ok": result["ok"],
        "processes": {name: _summary(s, count) for name, s in sorted(parsed.items())},
    }

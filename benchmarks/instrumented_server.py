"""`python -u -m pulumi.dynamic`, with instruments for the diagnosis; never used for the table.

    python -u instrumented_server.py <engine-address>

Runs the SDK's own server module (`runpy`, as `-m` does) after hooking two of its lookups, so
its code runs unchanged:

- `provider_pb2_grpc.add_ResourceProviderServicer_to_server`: each RPC method of the servicer is
  wrapped before it is registered;
- `dill.loads`: the provider it returns gets its check/diff/create/update timed.

Environment switches, each optional:

- BENCH_MARKERS=1: write `@@bench <Method> begin|end` lines to stderr around each RPC, so the
  `-X importtime` lines (PYTHONPROFILEIMPORTTIME=1) can be split by the call that caused them;
- BENCH_TRACE=<file>: append one JSON line per RPC: method, seconds in the RPC, seconds in the
  provider's own method (the rest is the server's: unpickling, (de)serialising properties);
- BENCH_GC=1: write `@@bench gc <generation> <ms>` to stderr after every garbage collection,
  so a collection that lands inside an import is not mistaken for that module's own cost;
- BENCH_PATCH=<module>:<function>: import and call it before the server starts (the module is
  found on PYTHONPATH), to measure a candidate fix without editing the package;
- BENCH_PROFILE=<file>: cProfile each RPC on its worker thread, except the first
  BENCH_PROFILE_SKIP (default 0) RPCs of the process (the first calls, which import); on
  SIGTERM the profiles of all threads are merged and written to <file> (pstats format), then
  the process exits.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

RPCS = ("Configure", "Check", "Diff", "Create", "Update", "Delete", "Read")
PROVIDER_METHODS = ("check", "diff", "create", "update", "delete", "read")

_markers = os.environ.get("BENCH_MARKERS") == "1"
_trace_path = os.environ.get("BENCH_TRACE")
_profile_path = os.environ.get("BENCH_PROFILE")
_trace = open(_trace_path, "a", buffering=1) if _trace_path else None  # noqa: SIM115
_profile_skip = int(os.environ.get("BENCH_PROFILE_SKIP", "0"))
_calls_seen = 0
_local = threading.local()
_profiles: list[Any] = []
_profiles_lock = threading.Lock()


def _profiler() -> Any:
    import cProfile

    prof = getattr(_local, "profile", None)
    if prof is None:
        prof = _local.profile = cProfile.Profile()
        with _profiles_lock:
            _profiles.append(prof)
    return prof


def _wrap_rpc(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(request: Any, context: Any) -> Any:
        if _markers:
            sys.stderr.write(f"@@bench {name} begin\n")
        global _calls_seen
        _local.provider_s = 0.0
        with _profiles_lock:
            _calls_seen += 1
            skip = _calls_seen <= _profile_skip
        prof = _profiler() if _profile_path and not skip else None
        started = time.perf_counter()
        if prof is not None:
            prof.enable()
        try:
            return method(request, context)
        finally:
            if prof is not None:
                prof.disable()
            elapsed = time.perf_counter() - started
            if _markers:
                sys.stderr.write(f"@@bench {name} end\n")
            if _trace is not None:
                line = {"rpc": name, "s": elapsed, "provider_s": _local.provider_s}
                _trace.write(json.dumps(line) + "\n")

    return wrapper


def _wrap_provider_method(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            _local.provider_s = getattr(_local, "provider_s", 0.0) + (time.perf_counter() - started)

    return wrapper


def _gc_reporter() -> None:
    import gc

    started = [0.0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            ms = (time.perf_counter() - started[0]) * 1e3
            sys.stderr.write(f"@@bench gc {info['generation']} {ms:.3f}\n")

    gc.callbacks.append(callback)


def _install() -> None:
    if os.environ.get("BENCH_GC") == "1":
        _gc_reporter()
    if patch := os.environ.get("BENCH_PATCH"):
        import importlib

        module, _, function = patch.partition(":")
        getattr(importlib.import_module(module), function)()

    import dill
    from pulumi.runtime.proto import provider_pb2_grpc

    register = provider_pb2_grpc.add_ResourceProviderServicer_to_server

    def instrumented_register(servicer: Any, server: Any) -> None:
        for name in RPCS:
            setattr(servicer, name, _wrap_rpc(name, getattr(servicer, name)))
        register(servicer, server)

    provider_pb2_grpc.add_ResourceProviderServicer_to_server = instrumented_register
    loads = dill.loads

    def instrumented_loads(*args: Any, **kwargs: Any) -> Any:
        provider = loads(*args, **kwargs)
        for name in PROVIDER_METHODS:
            if hasattr(provider, name):
                setattr(provider, name, _wrap_provider_method(getattr(provider, name)))
        return provider

    dill.loads = instrumented_loads

    if _profile_path:

        def dump(signum: int, frame: Any) -> None:
            import pstats

            with _profiles_lock:
                profiles = list(_profiles)
            if profiles:
                stats = pstats.Stats(profiles[0])
                for prof in profiles[1:]:
                    stats.add(prof)
                stats.dump_stats(_profile_path)
            os._exit(0)

        signal.signal(signal.SIGTERM, dump)


if __name__ == "__main__":
    _install()
    import runpy

    sys.argv = ["pulumi.dynamic", *sys.argv[1:]]
    runpy.run_module("pulumi.dynamic", run_name="__main__", alter_sys=True)

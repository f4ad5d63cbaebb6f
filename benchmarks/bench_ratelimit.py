"""Rate-limited convergence: creates against an emulator that answers 30% of requests with 429.

The emulator draws its faults from a seeded RNG, one draw per API request in arrival order, and
answers a drawn 429 with `Retry-After: 1` before applying anything. Every 429 therefore mandates
that its resource's next attempt waits at least one second, and nothing the client does can make
a resource's attempts fewer than its draws.

The least time those waits allow (the *bound*) is computed from the journal afterwards:

    bound = max over the `concurrency` workers w of  sum over the resources r that w created
            of  (429 answers r received) x Retry-After

A worker is one of the benchmark's four threads, each holding one of the provider server's four
worker threads for the whole Check+Create of a resource, so a worker can go no faster than the
sum of the waits mandated to its own resources. `balanced_bound` (all mandated waits / 4) is
also reported: it is what a perfect spread of the same waits over four workers would allow.
The figure is `wall / bound`, wall being the time from the first Check to the last Create.
Also checked from the journal: zero failures, exactly one applied POST per resource, and that
no retry came sooner than Retry-After after its 429.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from bench_common import RATE_LIMIT_RATE, RETRY_AFTER_S, EmulatorProcess, Plan
from bench_servers import (
    Variant,
    check_and_create,
    concurrently,
    configure,
    provider_config,
    start_server,
)

#: Fixed, so that a rerun meets the same draws in the same arrival order.
SEED = 12
#: A retry this much sooner than Retry-After still counts as waiting (clock and journal jitter).
GAP_TOLERANCE_S = 0.01


@dataclass
class RateLimited:
    resources: int
    failures: int
    failure_sample: str | None
    wall_s: float
    bound_s: float
    balanced_bound_s: float
    wall_over_bound: float | None
    wall_over_balanced_bound: float | None
    api_requests: int
    throttled: int
    retry_after_s: int
    rate: float
    seed: int
    #: Every resource has exactly one applied POST, and nothing else was applied.
    one_post_per_resource: bool
    applied_posts: int
    #: The shortest time from a 429 to the same resource's next attempt.
    shortest_retry_gap_s: float | None
    waits_honoured: bool
    worker_waits_s: list[float]


def measure(variant: Variant, emu: EmulatorProcess, plan: Plan) -> RateLimited:
    """`plan.rate_limited` creates through the real provider server, four at a time."""
    emu.set_faults()
    workers: dict[int, int] = {}
    failures: list[str] = []
    lock = threading.Lock()
    try:
        with start_server(variant) as server:
            configure(server, provider_config(emu))
            check_and_create(server, variant.blob, "warm-up")  # imports, outside the timed part
            emu.set_faults(rate=RATE_LIMIT_RATE, status=429, retry_after=RETRY_AFTER_S, seed=SEED)
            emu.clear_journal()

            def one(n: int) -> None:
                with lock:
                    workers[n] = threading.get_ident()
                try:
                    check_and_create(server, variant.blob, f"rl{n}")
                except Exception as exc:  # counted and shown in the results, never swallowed
                    lines = str(exc).strip().splitlines()
                    with lock:
                        failures.append(lines[-1] if lines else type(exc).__name__)

            wall, _ = concurrently(one, plan.rate_limited, plan.concurrency)
    finally:
        emu.set_faults()  # the sections after this one meet no faults, whatever happened here
    return _analyse(emu.journal(), workers, failures, wall, plan)


def _analyse(
    journal: list[dict[str, Any]],
    workers: dict[int, int],
    failures: list[str],
    wall: float,
    plan: Plan,
) -> RateLimited:
    by_email: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in sorted(journal, key=lambda e: e["seq"]):
        emails = entry.get("query", {}).get("email") or [""]
        by_email[emails[0]].append(entry)
    throttled = Counter(
        email for email, entries in by_email.items() for e in entries if e["status"] == 429
    )
    applied = Counter(
        email
        for email, entries in by_email.items()
        for e in entries
        if e["applied"] and e["method"] == "POST"
    )
    expected = {f"rl{n}@example.com" for n in range(plan.rate_limited)}
    one_each = set(applied) == expected and all(count == 1 for count in applied.values())
    one_each = one_each and not any(e["applied"] and e["method"] != "POST" for e in journal)

    gaps = [
        later["time"] - earlier["time"]
        for entries in by_email.values()
        for earlier, later in itertools.pairwise(entries)
        if earlier["status"] == 429
    ]
    waits: dict[int, float] = defaultdict(float)
    for n, worker in workers.items():
        waits[worker] += throttled[f"rl{n}@example.com"] * RETRY_AFTER_S
    worker_waits = sorted(waits.values(), reverse=True)
    bound = max(worker_waits, default=0.0)
    balanced = sum(worker_waits) / plan.concurrency
    return RateLimited(
        resources=plan.rate_limited,
        failures=len(failures),
        failure_sample=failures[0] if failures else None,
        wall_s=wall,
        bound_s=bound,
        balanced_bound_s=balanced,
        wall_over_bound=wall / bound if bound > 0 else None,
        wall_over_balanced_bound=wall / balanced if balanced > 0 else None,
        api_requests=len(journal),
        throttled=sum(throttled.values()),
        retry_after_s=RETRY_AFTER_S,
        rate=RATE_LIMIT_RATE,
        seed=SEED,
        one_post_per_resource=one_each,
        applied_posts=sum(applied.values()),
        shortest_retry_gap_s=min(gaps) if gaps else None,
        waits_honoured=all(g >= RETRY_AFTER_S - GAP_TOLERANCE_S for g in gaps),
        worker_waits_s=worker_waits,
    )

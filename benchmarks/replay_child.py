"""Diagnosis (d), the child: one variant's Check+Create replayed in one thread, step by step.

Run by `diagnose_replay.py` in the variant's own interpreter (the SDK's venv for the SDK), with
the variant's `__provider` blob in BENCH_BLOB and the stack config as JSON in BENCH_CONFIG. It
does what the provider server does for a Check then a Create (`pulumi/dynamic/__main__.py`):
unpickle the provider, call it, and turn its maps into protobuf Structs with the SDK's
`rpc.serialize_properties` on a new event loop, but with no gRPC and no worker threads, so each
step's CPU can be read alone. Prints one JSON object: warm CPU milliseconds per pair, by step.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import time
from typing import Any

import dill
from pulumi.dynamic import ConfigureRequest
from pulumi.runtime import rpc

STEPS = ("check", "serialize_inputs", "create", "serialize_outputs")
WARM_UP = 50


def _serialized(props: dict[str, Any]) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def main(pairs: int) -> dict[str, float]:
    blob = os.environ["BENCH_BLOB"]
    provider = dill.loads(base64.b64decode(blob))  # noqa: S301 (the blob this benchmark made)
    provider.configure(ConfigureRequest(json.loads(os.environ["BENCH_CONFIG"])))
    totals = dict.fromkeys(STEPS, 0)
    for n in range(WARM_UP + pairs):
        news = {"email": f"replay{n}@example.com", "__provider": blob}
        t0 = time.process_time_ns()
        checked = provider.check({}, news)
        t1 = time.process_time_ns()
        inputs = dict(checked.inputs)
        inputs["__provider"] = blob
        props = rpc.deserialize_properties(_serialized(inputs))
        t2 = time.process_time_ns()
        created = provider.create(props)
        t3 = time.process_time_ns()
        outs = dict(created.outs or {})
        outs["__provider"] = blob
        _serialized(outs)
        t4 = time.process_time_ns()
        if n >= WARM_UP:
            for step, spent in zip(STEPS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                totals[step] += spent
    return {step: totals[step] / pairs / 1e6 for step in STEPS}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))

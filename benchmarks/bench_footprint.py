"""State footprint: the bytes of `__provider` and of one resource's whole state entry.

One resource is created through the test engine (`scale_child.py 1 up`) and its entry read back
from the engine's state file. Sizes are of compact JSON (`separators=(",", ":")`), which is close
to what a Pulumi checkpoint stores per value; the test engine keeps secrets in clear text, so a
real checkpoint holds the ciphertext of secret values (such as `__provider`) instead.
"""

from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path
from typing import Any

from bench_common import EmulatorProcess
from bench_scaling import run_child

PROVIDER_KEY = "__provider"


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())


def blob_bytes(blob: str) -> dict[str, int]:
    """A `__provider` value: its base64 text and the pickle inside it."""
    return {"base64_bytes": len(blob.encode()), "pickle_bytes": len(base64.b64decode(blob))}


def measure(emu: EmulatorProcess, blobs: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-footprint-") as tmp:
        state = Path(tmp) / "state.json"
        result = run_child(1, "up", emu, state)
        if not result["ok"]:
            raise RuntimeError(f"footprint: the one-resource up failed: {result['error']}")
        data = json.loads(state.read_text())
    entry = next(r for r in data["resources"] if r["custom"])
    inputs, outputs = entry["inputs"], entry["outputs"]
    in_state = inputs.get(PROVIDER_KEY)
    return {
        "provider_blob": {key: blob_bytes(blob) for key, blob in blobs.items()},
        "provider_in_state_bytes": _size(in_state),
        "provider_copies_in_entry": sum(PROVIDER_KEY in part for part in (inputs, outputs)),
        "entry_bytes": _size(entry),
        "inputs_bytes": _size(inputs),
        "outputs_bytes": _size(outputs),
        "entry_without_provider_bytes": _size(
            {
                **entry,
                "inputs": {k: v for k, v in inputs.items() if k != PROVIDER_KEY},
                "outputs": {k: v for k, v in outputs.items() if k != PROVIDER_KEY},
            }
        ),
        "input_keys": sorted(inputs),
        "output_keys": sorted(outputs),
    }

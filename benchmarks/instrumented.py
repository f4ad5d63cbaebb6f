"""Start `instrumented_server.py` in place of `python -m pulumi.dynamic` (diagnosis only).

The table never uses this: its figures come from the unmodified server. Here the same server
code runs under `instrumented_server.py`, whose switches are described in that file.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path

from bench_common import HERE
from bench_servers import Variant

from pulumi_metal_reset.testing.provider_server import ProviderServer

WRAPPER = HERE / "instrumented_server.py"


class InstrumentedServer(ProviderServer):
    """ProviderServer running the SDK's server module through the instrumenting wrapper."""

    @property
    def command(self) -> list[str]:
        return [self.python, "-u", str(WRAPPER), self.engine_address]

    def __enter__(self) -> InstrumentedServer:
        super().__enter__()
        return self

    def wait_for_output(self, text: str, timeout: float = 10.0) -> str:
        """The process's output once it contains `text` (its stderr is read by a thread)."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.output()
            if text in out or time.monotonic() > deadline:
                return out
            time.sleep(0.02)

    def terminate_and_wait(self, timeout: float = 30.0) -> None:
        """SIGTERM (the wrapper writes its profile and exits), then wait until it has exited."""
        pid = self.pid
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                break
            if state in ("Z", "X"):
                break
            time.sleep(0.02)


def instrumented(variant: Variant, env: Mapping[str, str]) -> InstrumentedServer:
    return InstrumentedServer(
        HERE, project="bench", env={**variant.env, **env}, python=variant.python
    )

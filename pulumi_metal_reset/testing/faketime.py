"""Find Debian's libfaketime, which moves a whole process's clock without a hook in the product.

Schedule tests run the provider server under it, so the provider reads a shifted clock exactly
as it would in production after that much time.
"""

from __future__ import annotations

import glob
import os

__all__ = ["faketime_env", "find_libfaketime"]

_PATTERNS = (
    "/usr/lib/*/faketime/libfaketimeMT.so.1",
    "/usr/lib/faketime/libfaketimeMT.so.1",
    "/usr/local/lib/faketime/libfaketimeMT.so.1",
)


def find_libfaketime() -> str | None:
    """Path of the multi-threaded libfaketime, or None when it is not installed."""
    override = os.environ.get("LIBFAKETIME_PATH")
    if override:
        return override if os.path.exists(override) else None
    for pattern in _PATTERNS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def faketime_env(offset: str) -> dict[str, str]:
    """Environment for a process whose clock runs `offset` (e.g. "+31d") from now.

    Monotonic clocks stay real so gRPC's timers and deadlines keep working.
    """
    library = find_libfaketime()
    if library is None:
        raise RuntimeError(
            "libfaketime is not installed; install Debian's faketime package "
            "(apt-get install faketime) or set LIBFAKETIME_PATH."
        )
    return {
        "LD_PRELOAD": library,
        "FAKETIME": offset,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "FAKETIME_NO_CACHE": "1",
    }

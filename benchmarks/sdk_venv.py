"""The official-SDK provider's own virtual environment, built once and kept between runs.

`equinix-metal==0.11.0` pins urllib3 below 2.1, which our package cannot share, so it gets a venv
of its own (`benchmarks/.venv-sdk`, gitignored) with pulumi, grpcio, protobuf, dill and pydantic
pinned to the versions of our venv: the two provider processes then differ only in the
provider code and its HTTP stack. A stamp file records the pins and the Python version; the venv
is rebuilt when they change. pip reaches PyPI for this step only; the benchmark stays on loopback.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench_common import HERE, child_env

SDK_REQUIREMENT = "equinix-metal==0.11.0"
#: Shared with our venv at the same versions, so only the provider's own stack differs.
SHARED = ("pulumi", "grpcio", "protobuf", "dill", "pydantic", "pydantic-core")
VENV = HERE / ".venv-sdk"
STAMP = VENV / ".bench-installed"
#: The SDK provider's pickled blob, kept beside the stamp: making it imports the SDK (~1 s).
BLOB = VENV / ".bench-blob"

#: Words in pip's output that mean the index could not be reached (as opposed to a broken pin).
NETWORK_MARKERS = (
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "ConnectTimeoutError",
    "Connection refused",
    "Read timed out",
    "ProxyError",
    "Could not fetch URL",
    "connection broken",
    "Retrying (Retry(",
)


@dataclass(frozen=True)
class SdkVenv:
    """Where the SDK's provider server runs, or why it cannot."""

    python: Path | None
    #: Installed versions inside the venv (the SDK, urllib3 and the shared pins).
    versions: dict[str, str]
    #: Why the SDK variant is missing; None when it is available.
    unavailable: str | None = None
    #: True when pip could not reach the package index (the only acceptable reason to go on).
    network_failure: bool = False


def requirements() -> list[str]:
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in SHARED]
    return [SDK_REQUIREMENT, *pins]


def _python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _installed_versions(python: Path) -> dict[str, str]:
    names = ["equinix-metal", "urllib3", *SHARED]
    script = (
        "import importlib.metadata as m, json, platform, sys;"
        "print(json.dumps({'python': platform.python_version(),"
        " **{n: m.version(n) for n in sys.argv[1:]}}))"
    )
    out = subprocess.run(
        [str(python), "-c", script, *names],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    versions: dict[str, str] = json.loads(out)
    return versions


def ensure_sdk_venv(*, quiet: bool = False) -> SdkVenv:
    """Create or reuse the SDK venv; never raises for an install failure, it reports it."""
    wanted = requirements()
    python = _python()
    # The interpreter's version is part of the stamp: a venv left by another lane's Python would
    # run the SDK's provider on a different Python from ours.
    stamp = [f"python=={platform.python_version()}", *wanted]
    if STAMP.exists() and python.exists() and STAMP.read_text().split() == stamp:
        return SdkVenv(python, _installed_versions(python))
    if not quiet:
        print(f"building {VENV.relative_to(HERE.parent)} for the SDK variant: {' '.join(wanted)}")
    # From the base interpreter, so the SDK's venv cannot see our venv's site-packages.
    base = getattr(sys, "_base_executable", sys.executable)
    steps = [
        [base, "-m", "venv", "--clear", str(VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
    ]
    for command in steps:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            lines = [line.strip() for line in (done.stdout + done.stderr).splitlines()]
            found = [
                line for line in lines if any(m.lower() in line.lower() for m in NETWORK_MARKERS)
            ]
            shown = (found or [line for line in lines if line] or ["no output"])[-1][:300]
            why = "the package index could not be reached" if found else "the install failed"
            return SdkVenv(
                None,
                {},
                unavailable=f"{why} ({' '.join(command[:4])} ...: {shown})",
                network_failure=bool(found),
            )
    STAMP.write_text("\n".join(stamp) + "\n")
    return SdkVenv(python, _installed_versions(python))


def sdk_blob(venv: SdkVenv) -> str:
    """`__provider` for `sdk_provider.SdkProvider`, pickled in the SDK venv, which can import it.

    A class pickles by reference (module and name), so the blob changes only with the venv;
    it is kept in the venv and made again when the venv is rebuilt.
    """
    if venv.python is None:
        raise RuntimeError("the SDK venv is not available")
    if BLOB.exists() and BLOB.stat().st_mtime >= STAMP.stat().st_mtime:
        return BLOB.read_text().strip()
    script = (
        "from pulumi.dynamic.dynamic import serialize_provider;"
        "from sdk_provider import SdkProvider;"
        "print(serialize_provider(SdkProvider()))"
    )
    env = os.environ | child_env(with_repo=False)
    out = subprocess.run(
        [str(venv.python), "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    ).stdout
    blob = out.strip().splitlines()[-1]
    BLOB.write_text(blob + "\n")
    return blob

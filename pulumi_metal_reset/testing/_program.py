"""Running the program: the engine's gRPC services on a loopback port, and the program in a child
process started as the Python language host starts it (``--monitor --engine --project --stack
--pwd --root_directory --dry_run --parallel --organization <program>``, config in
``PULUMI_CONFIG`` and ``PULUMI_CONFIG_SECRET_KEYS``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from concurrent import futures

import grpc
from pulumi.runtime.proto import engine_pb2_grpc, resource_pb2_grpc

from . import _run_program
from ._deployment import Deployment
from ._project import Project
from ._results import TIMED_OUT
from ._services import EngineServicer, MonitorServicer
from .provider_server import GRPC_OPTIONS


def run_program(
    d: Deployment,
    project: Project,
    stack: str,
    organization: str,
    env: Mapping[str, str],
    timeout: float,
) -> tuple[str | None, str]:
    """Serve ``d`` and run the program against it; returns (error or None, its output)."""
    parallel = 4 * (os.cpu_count() or 1)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=64), options=GRPC_OPTIONS)
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(
        MonitorServicer(d, parallel=parallel), server
    )
    engine_pb2_grpc.add_EngineServicer_to_server(EngineServicer(d), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    address = f"127.0.0.1:{port}"
    command = [
        sys.executable,
        _run_program.__file__,
        "--monitor",
        address,
        "--engine",
        address,
        "--project",
        project.name,
        "--stack",
        stack,
        "--pwd",
        str(project.pwd),
        "--root_directory",
        str(project.root),
        "--dry_run",
        "true" if d.dry_run else "false",
        "--parallel",
        str(parallel),
        "--organization",
        organization,
        str(project.program),
    ]
    try:
        proc = subprocess.run(
            command,
            cwd=project.pwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode("utf-8", "replace")
        return f"{TIMED_OUT} {timeout} s", out
    finally:
        server.stop(grace=None)
    output = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        return output.strip() or f"the program exited with code {proc.returncode}", output
    return None, output

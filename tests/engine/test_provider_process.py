"""ProviderServer: starting and stopping the real `python -u -m pulumi.dynamic` process as the
engine's plugin loader does (port from the first stdout line, environment, reaping).

Real: the SDK's provider server and its gRPC service. Stood in for: the Go engine's plugin loader
(and the `pulumi-resource-pulumi-python` shim). What a provider answers over the protocol is
tested in tests/protocol/test_password_reset_protocol.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2

from pulumi_metal_reset.testing.provider_server import ProviderServer, ProviderServerError

pytestmark = pytest.mark.engine


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serves_the_provider_protocol_and_is_killed_on_exit(tmp_path: Path) -> None:
    """The port comes from the first stdout line; Configure answers acceptSecrets=False (so the
    engine must strip secrets); leaving the context kills the process."""
    with ProviderServer(tmp_path, project="proj") as server:
        assert server.command[1:4] == ["-u", "-m", "pulumi.dynamic"]
        response = server.stub.Configure(provider_pb2.ConfigureRequest(acceptSecrets=True))
        assert response.acceptSecrets is False
        assert response.supportsPreview is False
        assert server.stub.GetPluginInfo(empty_pb2.Empty()).version == "0.1.0"
        pid = server.pid
        assert pid is not None
        assert _alive(pid)
    assert not _alive(pid)


def test_a_server_that_never_prints_its_port_is_an_error_and_is_reaped(tmp_path: Path) -> None:
    """A provider environment that cannot start the server fails fast with its stderr."""
    script = tmp_path / "fake_python"
    script.write_text("#!/bin/sh\necho 'no pulumi here' >&2\nexit 3\n")
    script.chmod(0o755)
    server = ProviderServer(tmp_path, project="proj", python=str(script), startup_timeout=10)

    with pytest.raises(ProviderServerError, match="no pulumi here"):
        server.start()
    assert server.pid is not None
    assert not _alive(server.pid)


def test_environment_sets_the_project_and_keeps_monotonic_clocks_real(tmp_path: Path) -> None:
    """PULUMI_PROJECT as the engine sets it; with FAKETIME, gRPC's monotonic timers stay real."""
    env = ProviderServer(tmp_path, project="proj", env={"FAKETIME": "+1d"}).environment()
    assert env["PULUMI_PROJECT"] == "proj"
    assert env["FAKETIME"] == "+1d"
    assert env["FAKETIME_DONT_FAKE_MONOTONIC"] == "1"
    plain = ProviderServer(tmp_path, project="proj").environment()
    key = "FAKETIME_DONT_FAKE_MONOTONIC"
    assert plain.get(key) == os.environ.get(key)  # only added alongside FAKETIME
    assert ProviderServer(tmp_path, project="p").python == sys.executable

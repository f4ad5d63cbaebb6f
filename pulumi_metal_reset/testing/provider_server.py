"""Start the real Python dynamic-provider server the way the Pulumi engine does.

The engine starts the plugin shim ``pulumi-resource-pulumi-python``, which runs
``python -u -m pulumi.dynamic <engine-address>`` in the project's environment with
``PULUMI_PROJECT`` set and the program directory as working directory (so provider classes in
modules beside the program unpickle by reference). The server prints its port on the first stdout
line. :class:`ProviderServer` does exactly that, for the test engine and for protocol tests.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from pulumi.runtime.proto import provider_pb2_grpc

from ._plugin import GRPC_OPTIONS, PluginProcess, PluginStartError

__all__ = ["GRPC_OPTIONS", "ProviderServer", "ProviderServerError"]


class ProviderServerError(RuntimeError):
    """The provider server did not start (its stderr is in the message)."""


class ProviderServer:
    """The real ``python -u -m pulumi.dynamic`` server in a child process.

    Use as a context manager; the process is killed on exit and whenever starting fails.
    ``env`` is added to the inherited environment (the CLI passes its own environment to plugins),
    e.g. ``LD_PRELOAD``/``FAKETIME`` to move the provider's clock with libfaketime. When
    ``FAKETIME`` is given, ``FAKETIME_DONT_FAKE_MONOTONIC=1`` is added unless set: gRPC's timers
    run on the monotonic clock and stall when libfaketime moves it.
    """

    def __init__(
        self,
        cwd: Path,
        *,
        project: str,
        engine_address: str = "127.0.0.1:0",
        env: Mapping[str, str] | None = None,
        python: str | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.cwd = Path(cwd)
        self.project = project
        self.engine_address = engine_address
        self.extra_env = dict(env or {})
        self.python = python or sys.executable
        self.startup_timeout = startup_timeout
        self._process: PluginProcess | None = None
        self._stub: provider_pb2_grpc.ResourceProviderStub | None = None

    @property
    def command(self) -> list[str]:
        """The command line, as the shim runs it."""
        return [self.python, "-u", "-m", "pulumi.dynamic", self.engine_address]

    def environment(self) -> dict[str, str]:
        """The child's environment: ours, ``PULUMI_PROJECT`` and the extra variables."""
        env = dict(os.environ)
        env["PULUMI_PROJECT"] = self.project
        env.update(self.extra_env)
        if "FAKETIME" in self.extra_env:
            env.setdefault("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        return env

    def start(self) -> ProviderServer:
        """Start the process, read its port and wait until the gRPC channel is ready."""
        if self._process is not None:
            raise ProviderServerError("provider server already started")
        self._process = PluginProcess(self.command, cwd=self.cwd, env=self.environment())
        try:
            channel = self._process.connect(self.startup_timeout)
        except PluginStartError as err:
            raise ProviderServerError(f"provider server {err}:\n{self._process.output()}") from None
        except BaseException:
            self.close()
            raise
        self._stub = provider_pb2_grpc.ResourceProviderStub(channel)
        return self

    @property
    def port(self) -> int:
        """The port the server printed."""
        port = None if self._process is None else self._process.port
        if port is None:
            raise ProviderServerError("provider server not started")
        return port

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``."""
        return f"127.0.0.1:{self.port}"

    @property
    def stub(self) -> provider_pb2_grpc.ResourceProviderStub:
        """A ResourceProvider client on an insecure loopback channel."""
        if self._stub is None:
            raise ProviderServerError("provider server not started")
        return self._stub

    @property
    def pid(self) -> int | None:
        """The child's process id (None before start)."""
        return None if self._process is None else self._process.pid

    def output(self) -> str:
        """What the provider wrote after its port line: stdout, then stderr."""
        return "" if self._process is None else self._process.output()

    def close(self) -> None:
        """Close the channel and kill the process (the engine kills plugins when it is done)."""
        self._stub = None
        if self._process is not None:
            self._process.close()

    def __enter__(self) -> ProviderServer:
        if self._process is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

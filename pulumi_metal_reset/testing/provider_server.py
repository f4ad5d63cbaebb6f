"""Start the real Python dynamic-provider server the way the Pulumi engine does.

The engine starts the plugin shim ``pulumi-resource-pulumi-python``, which runs
``python -u -m pulumi.dynamic <engine-address>`` in the project's environment with
``PULUMI_PROJECT`` set and the program directory as working directory (so provider classes in
modules beside the program unpickle by reference). The server prints its port on the first stdout
line. :class:`ProviderServer` does exactly that, for the test engine and for protocol tests.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import cast

import grpc
from pulumi.runtime.proto import provider_pb2_grpc

__all__ = ["GRPC_OPTIONS", "ProviderServer", "ProviderServerError"]

#: Channel options for loopback channels: never route 127.0.0.1 through an HTTP proxy from the
#: environment, and accept the large messages the SDK allows.
GRPC_OPTIONS: list[tuple[str, int]] = [
    ("grpc.enable_http_proxy", 0),
    ("grpc.max_receive_message_length", 400 * 1024 * 1024),
]


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
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: provider_pb2_grpc.ResourceProviderStub | None = None
        self._port: int | None = None
        self._out: list[bytes] = []
        self._err: list[bytes] = []
        self._readers: list[threading.Thread] = []

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
        if self._proc is not None:
            raise ProviderServerError("provider server already started")
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        self._proc = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        stdout = cast(io.BufferedReader, self._proc.stdout)
        stderr = cast(io.BufferedReader, self._proc.stderr)
        first_line: list[bytes] = []
        got_line = threading.Event()

        def read_stdout(stream: io.BufferedReader) -> None:
            first_line.append(stream.readline())
            got_line.set()
            for chunk in iter(lambda: stream.read1(65536), b""):
                self._out.append(chunk)

        def read_stderr(stream: io.BufferedReader) -> None:
            for chunk in iter(lambda: stream.read1(65536), b""):
                self._err.append(chunk)

        for target, stream in ((read_stdout, stdout), (read_stderr, stderr)):
            thread = threading.Thread(target=target, args=(stream,), daemon=True)
            thread.start()
            self._readers.append(thread)

        if not got_line.wait(self.startup_timeout) or not first_line[0].strip():
            raise ProviderServerError(self._failure("did not print its port"))
        try:
            self._port = int(first_line[0].strip())
        except ValueError:
            raise ProviderServerError(
                self._failure(f"printed {first_line[0][:200]!r} instead of its port")
            ) from None
        self._channel = grpc.insecure_channel(f"127.0.0.1:{self._port}", options=GRPC_OPTIONS)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self.startup_timeout)
        except grpc.FutureTimeoutError:
            raise ProviderServerError(self._failure("did not accept connections")) from None
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)

    def _failure(self, what: str) -> str:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        for thread in self._readers:
            thread.join(timeout=2)
        return f"provider server {what}:\n{self.output()}"

    @property
    def port(self) -> int:
        """The port the server printed."""
        if self._port is None:
            raise ProviderServerError("provider server not started")
        return self._port

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
        return None if self._proc is None else self._proc.pid

    def output(self) -> str:
        """What the provider wrote after its port line: stdout, then stderr."""
        out = b"".join(self._out) + b"".join(self._err)
        return out.decode("utf-8", "replace")

    def close(self) -> None:
        """Close the channel and kill the process (the engine kills plugins when it is done)."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
        if self._proc is not None:
            self._proc.wait()
        for thread in self._readers:
            thread.join(timeout=2)

    def __enter__(self) -> ProviderServer:
        if self._proc is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

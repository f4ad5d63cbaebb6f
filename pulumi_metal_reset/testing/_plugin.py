"""A plugin process, started as Pulumi's engine starts one: the port on its first stdout line.

The engine starts resource providers and policy packs alike (`pkg/resource/plugin/plugin.go`,
`newPlugin`): it runs the command, reads the port the child prints as its first line of
standard output, dials 127.0.0.1 on it, and keeps everything else the child writes as
diagnostics. The dynamic-provider server and the policy packs both run through this class.
"""

from __future__ import annotations

import io
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

import grpc

__all__ = ["GRPC_OPTIONS", "PluginProcess", "PluginStartError"]

#: Channel options for loopback channels: never route 127.0.0.1 through an HTTP proxy from the
#: environment, and accept the large messages the SDK allows.
GRPC_OPTIONS: list[tuple[str, int]] = [
    ("grpc.enable_http_proxy", 0),
    ("grpc.max_receive_message_length", 400 * 1024 * 1024),
]


class PluginStartError(RuntimeError):
    """The plugin printed no port, or did not accept connections; the reason is the message."""


class PluginProcess:
    """One child process: started, its port read, a channel to it, and whatever it wrote."""

    def __init__(self, command: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> None:
        self._proc = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._out: list[bytes] = []
        self._err: list[bytes] = []
        self._first_line: list[bytes] = []
        self._got_line = threading.Event()
        self._channel: grpc.Channel | None = None
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        stream = cast(io.BufferedReader, self._proc.stdout)
        self._first_line.append(stream.readline())
        self._got_line.set()
        for chunk in iter(lambda: stream.read1(65536), b""):
            self._out.append(chunk)

    def _read_stderr(self) -> None:
        stream = cast(io.BufferedReader, self._proc.stderr)
        for chunk in iter(lambda: stream.read1(65536), b""):
            self._err.append(chunk)

    def connect(self, timeout: float, *, wait_ready: bool = True) -> grpc.Channel:
        """Read the port, open the channel and (by default) wait until it accepts calls.

        Raises PluginStartError, with the process already stopped, when any of that fails.
        """
        if not self._got_line.wait(timeout) or not self._first_line[0].strip():
            raise self._failed("did not print its port")
        line = self._first_line[0].strip()
        if not line.isdigit():
            raise self._failed(f"printed {line[:200]!r} instead of its port")
        self._channel = grpc.insecure_channel(f"127.0.0.1:{int(line)}", options=GRPC_OPTIONS)
        if wait_ready:
            try:
                grpc.channel_ready_future(self._channel).result(timeout=timeout)
            except grpc.FutureTimeoutError:
                raise self._failed("did not accept connections") from None
        return self._channel

    def _failed(self, what: str) -> PluginStartError:
        self.close()
        return PluginStartError(what)

    @property
    def port(self) -> int | None:
        """The port the child printed, once read."""
        line = self._first_line[0].strip() if self._first_line else b""
        return int(line) if line.isdigit() else None

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._proc.pid

    def output(self) -> str:
        """What the child wrote after its port line: standard output, then standard error."""
        return (b"".join(self._out) + b"".join(self._err)).decode("utf-8", "replace")

    def close(self) -> None:
        """Close the channel and kill the child (the engine kills plugins when it is done)."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        for reader in self._readers:
            reader.join(timeout=2)

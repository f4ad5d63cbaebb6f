"""`python -m pulumi_metal_reset.emulator`: start, flags, logs, and a clean exit on signals."""

from __future__ import annotations

import http.client
import json
import random
import signal
import subprocess
import sys
import time

import pytest

from pulumi_metal_reset.emulator import DEV_TOKEN

from .support import (
    Client,
    Process,
    error_body,
    new_password,
    skip_without_ipv6_loopback,
    start_cli,
)

SECRET = "cli-secret-token-0123456789"


def _stop(process: Process, signum: int = signal.SIGTERM) -> tuple[int, float, str]:
    """Signal the child; return its exit code, how long it took, and its stderr."""
    started = time.perf_counter()
    process.popen.send_signal(signum)
    _, stderr = process.popen.communicate(timeout=5)
    return process.popen.returncode, time.perf_counter() - started, stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_starts_fast_serves_and_exits_zero_on_signal(signum: int) -> None:
    process = start_cli()
    print(f"time to first line: {process.startup_s * 1000:.0f} ms")
    try:
        assert process.url.startswith("http://127.0.0.1:")
        assert process.url.endswith("/metal/v1")
        assert process.startup_s < 3  # about 0.1 s here; loose for loaded machines
        client = Client(process.url)
        new_password(client.delete(DEV_TOKEN))  # the connection stays open across the signal
    finally:
        code, took, stderr = _stop(process, signum)
    print(f"exit after signal: {took * 1000:.0f} ms")
    assert code == 0
    assert took < 2
    assert stderr == ""  # quiet by default


def test_stdout_holds_only_the_url() -> None:
    process = start_cli()
    Client(process.url).delete(DEV_TOKEN)
    process.popen.send_signal(signal.SIGTERM)
    stdout, _ = process.popen.communicate(timeout=5)
    assert stdout == ""  # the URL line was already read; nothing followed it


def test_tokens_map_to_users_and_replace_the_dev_token() -> None:
    process = start_cli("--token", f"{SECRET}=alice", "--token", "plain-token")
    try:
        client = Client(process.url)
        new_password(client.delete(SECRET))
        new_password(client.delete("plain-token"))
        error_body(client.delete(DEV_TOKEN), 401)
        entries = client.control("GET", "journal").json()["entries"]
    finally:
        assert _stop(process)[0] == 0
    users = [entry["user"] for entry in entries]
    assert users[0] == "alice"
    assert users[1].startswith("user-")
    assert "plain-token" not in users[1]
    assert users[2] is None


def test_fault_flags_at_start() -> None:
    process = start_cli(
        "--script", "429,drop,truncated,ok", "--retry-after", "7", "--fault-rate", "1",
        "--fault-status", "502", "--latency-ms", "30",
    )  # fmt: skip
    try:
        client = Client(process.url)
        reply = client.delete(DEV_TOKEN)
        error_body(reply, 429)
        assert reply.headers["Retry-After"] == "7"
        with pytest.raises(http.client.RemoteDisconnected):
            client.delete(DEV_TOKEN)
        client.close()
        with pytest.raises(json.JSONDecodeError):
            client.delete(DEV_TOKEN).json()
        new_password(client.delete(DEV_TOKEN))
        error_body(client.delete(DEV_TOKEN), 502)  # script used up: the rate takes over
        faults = client.control("GET", "faults").json()
        entries = client.control("GET", "journal").json()["entries"]
    finally:
        assert _stop(process)[0] == 0
    assert faults["latency_ms"] == 30
    assert faults["script_remaining"] == []
    assert [e["outcome"] for e in entries] == ["429", "drop", "truncated", "ok", "502"]
    assert all(e["elapsed_ms"] >= 30 for e in entries)


def test_standing_modes_and_seed_flags() -> None:
    process = start_cli("--drop-after-apply")
    try:
        with pytest.raises(http.client.RemoteDisconnected):
            Client(process.url).delete(DEV_TOKEN)
    finally:
        assert _stop(process)[0] == 0
    process = start_cli("--malformed")
    try:
        reply = Client(process.url).delete(DEV_TOKEN)
        assert reply.status == 201
        with pytest.raises(json.JSONDecodeError):
            reply.json()
        assert json.loads(Client(process.url).control("GET", "faults").body)["malformed"] == (
            "not-json"
        )
    finally:
        assert _stop(process)[0] == 0
    process = start_cli("--fault-rate", "0.5", "--seed", "3", "--fault-status", "500")
    try:
        client = Client(process.url)
        statuses = [client.delete(DEV_TOKEN).status for _ in range(30)]
    finally:
        assert _stop(process)[0] == 0
    rng = random.Random(3)
    assert statuses == [500 if rng.random() < 0.5 else 201 for _ in range(30)]


def test_faults_change_at_run_time_through_the_control_api() -> None:
    process = start_cli()
    try:
        client = Client(process.url)
        assert client.control("PUT", "faults", {"script": ["503"]}).status == 200
        error_body(client.delete(DEV_TOKEN), 503)
        new_password(client.delete(DEV_TOKEN))
    finally:
        assert _stop(process)[0] == 0


def test_verbose_logs_one_line_per_request_without_secrets() -> None:
    process = start_cli("--token", f"{SECRET}=alice", verbose=True)
    try:
        client = Client(process.url)
        passwords = [new_password(client.delete(SECRET)) for _ in range(3)]
        client.post("email=a%40x.io", token=SECRET)
        client.delete("nope")
        client.control("PUT", "faults", {"script": ["truncated"]})
        client.delete(SECRET)
        client.control("GET", "journal")
    finally:
        code, _, stderr = _stop(process)
    assert code == 0
    request_lines = [line for line in stderr.splitlines() if "/metal/v1/" in line]
    assert len(request_lines) == 6
    assert "DELETE /metal/v1/reset-password -> 201 outcome=ok user=alice" in request_lines[0]
    assert SECRET not in stderr
    for password in passwords:
        assert password not in stderr


def test_help_documents_the_flags_and_the_dev_token() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_metal_reset.emulator", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    for text in (
        DEV_TOKEN, "--token", "--fault-rate", "--fault-status", "--retry-after", "--latency-ms",
        "--script", "--drop-after-apply", "--malformed", "--seed", "--verbose", "truncated",
    ):  # fmt: skip
        assert text in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault-rate", "2"], "rate must be a number from 0 to 1"),
        (["--fault-status", "404"], "invalid choice"),
        (["--script", "429,teapot"], "script has unknown outcomes"),
        (["--malformed", "html"], "invalid choice"),
        (["--token", "=alice"], "--token: a token must not be empty"),
        (["--token", "t=alice", "--token", "t=bob"], "the same token is given for two users"),
        (["--host", "0.0.0.0"], "loopback addresses only"),  # noqa: S104
        (["--port", "70000"], "--port: 70000 is not a port; give 0-65535"),
        (["--port", "-1"], "--port: -1 is not a port; give 0-65535"),
        (["--port", "http"], "--port: 'http' is not a port number"),
    ],
)
def test_bad_flags_exit_2_with_a_reason(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_metal_reset.emulator", *args],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_a_bracketed_ipv6_host_is_the_address_inside() -> None:
    """`--host [::1]` is written as in a URL; it listens on ::1, not on a name lookup."""
    skip_without_ipv6_loopback()
    process = start_cli("--host", "[::1]")
    try:
        assert process.url.startswith("http://[::1]:")
    finally:
        assert _stop(process)[0] == 0


def test_a_busy_port_is_a_clean_error() -> None:
    process = start_cli()
    try:
        port = process.url.split(":")[2].split("/")[0]
        result = subprocess.run(
            [sys.executable, "-m", "pulumi_metal_reset.emulator", "--port", port],
            capture_output=True,
            text=True,
            timeout=10,
        )
    finally:
        assert _stop(process)[0] == 0
    assert result.returncode == 2
    assert "cannot listen on" in result.stderr
    assert "Traceback" not in result.stderr
    # One sentence that says what to do, not argparse's usage block.
    assert result.stderr.count("\n") == 1
    assert "usage:" not in result.stderr
    assert f"127.0.0.1:{port} because that port is already in use" in result.stderr
    assert "--port 0" in result.stderr
    assert result.stderr.rstrip().endswith(".")
    assert result.stdout == ""

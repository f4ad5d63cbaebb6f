"""Keep-alive speed and many concurrent clients: what the provider's tests lean on."""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter

import requests

from pulumi_metal_reset.emulator import Emulator

from .support import Client, StrictNewPassword, new_password

THREADS = 8
REQUESTS_PER_THREAD = 200
TOKENS = {"tok-a": "alice", "tok-b": "bob", "tok-c": "carol"}


def test_keep_alive_requests_do_not_stall(client: Client) -> None:
    """Fails on the ~40 ms Nagle plus delayed-ACK stall of a two-write response."""
    new_password(client.delete())  # connect outside the timing
    timings = []
    for _ in range(50):
        started = time.perf_counter()
        new_password(client.delete())
        timings.append(time.perf_counter() - started)
    median_ms = statistics.median(timings) * 1000
    print(f"keep-alive DELETE median: {median_ms:.3f} ms (max {max(timings) * 1000:.3f} ms)")
    assert median_ms < 20


def _worker(url: str, index: int, passwords: list[tuple[str, str]], errors: list[str]) -> None:
    tokens = list(TOKENS)
    with requests.Session() as session:
        for n in range(REQUESTS_PER_THREAD):
            token = tokens[(index + n) % len(tokens)]
            headers = {"X-Auth-Token": token}
            try:
                if n % 10 == 9:
                    reply = session.post(
                        url, params={"email": f"u{index}+{n}@x.io"}, headers=headers, timeout=10
                    )
                    if reply.status_code != 201 or reply.content:
                        errors.append(f"POST {reply.status_code}")
                    continue
                reply = session.delete(url, headers=headers, timeout=10)
                if reply.status_code != 201:
                    errors.append(f"DELETE {reply.status_code}")
                    continue
                secret = StrictNewPassword.model_validate_json(reply.content).new_password
                passwords.append((TOKENS[token], secret.get_secret_value()))
            except Exception as exc:  # collected and asserted on in the main thread
                errors.append(type(exc).__name__)


def test_eight_threads_of_two_hundred_requests() -> None:
    passwords: list[tuple[str, str]] = []
    errors: list[str] = []
    with Emulator(TOKENS) as emu:
        url = emu.url + "/reset-password"
        threads = [
            threading.Thread(target=_worker, args=(url, i, passwords, errors))
            for i in range(THREADS)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        elapsed = time.perf_counter() - started
        journal = emu.journal
        finals = {user: emu.password_of(user) for user in TOKENS.values()}
    total = THREADS * REQUESTS_PER_THREAD
    print(f"{THREADS}x{REQUESTS_PER_THREAD} requests: {elapsed:.2f} s, {total / elapsed:.0f}/s")
    assert errors == []
    assert len(passwords) == THREADS * (REQUESTS_PER_THREAD - REQUESTS_PER_THREAD // 10)
    assert len({password for _, password in passwords}) == len(passwords)  # all distinct
    assert len(journal) == total
    assert Counter(entry.status for entry in journal) == {201: total}
    for user, final in finals.items():  # the last rotation applied is the one we keep
        assert (user, final) in passwords

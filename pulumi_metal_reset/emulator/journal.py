"""The emulator's request journal: what tests inspect instead of scraping logs.

Entries hold the user name or a short hash of the token, never the token or a password, because
the journal is served over HTTP by the control API and shown in test failure output.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["DEFAULT_JOURNAL_LIMIT", "Journal", "JournalEntry", "token_id"]

DEFAULT_JOURNAL_LIMIT = 10_000


def token_id(token: str) -> str:
    """A 12-hex-digit SHA-256 prefix: tells tokens apart in the journal without revealing one."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()[:12]


@dataclass(frozen=True)
class JournalEntry:
    """One API request as the emulator saw it.

    `status` is None when the connection was dropped without an answer. `outcome` names the
    injected fault ("ok" when none). `applied` says whether the request changed state, which is
    what an ambiguous failure hides from the client.
    """

    seq: int
    time: float
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    status: int | None = None
    outcome: str = "ok"
    applied: bool = False
    user: str | None = None
    token_id: str | None = None
    elapsed_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    """A bounded, thread-safe list of entries; the oldest fall off past `limit`."""

    def __init__(self, limit: int = DEFAULT_JOURNAL_LIMIT) -> None:
        if limit < 1:
            raise ValueError("journal limit must be at least 1")
        self._entries: deque[JournalEntry] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self._seq = 0

    def record(self, **fields: Any) -> JournalEntry:
        with self._lock:
            self._seq += 1
            entry = JournalEntry(seq=self._seq, **fields)
            self._entries.append(entry)
        return entry

    def snapshot(self) -> list[JournalEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> int:
        """Drop every entry and return how many there were; `seq` keeps counting."""
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
        return count

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __repr__(self) -> str:
        return f"Journal(entries={len(self)})"

"""What the stack may record about a password without holding it: a keyed fingerprint, where it
was delivered, and the rotation history. Pure functions; no Pulumi, no HTTP, no pydantic.

Fingerprint recipe (what `fingerprint` computes, for checking which password a store holds):

    HMAC-SHA256, key = "pulumi-metal-reset/password-fingerprint/v1/" + <resource id>,
    message = the password's UTF-8 bytes exactly (no trailing newline); the first 16 hex digits,
    prefixed "fp-". With OpenSSL:

    pass show metal/ops \\
        | openssl dgst -sha256 -hmac "pulumi-metal-reset/password-fingerprint/v1/$RESOURCE_ID" \\
        | sed 's/.* /fp-/' | cut -c1-19

Keyed by the resource id so that two resources holding the same password show different
fingerprints (nothing links them), while anyone who holds the password and reads the stack can
recompute it. It helps no one guess a password: the API's passwords are random and long.
"""

from __future__ import annotations

import hashlib
import hmac
import shlex
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pulumi_metal_reset.connection import SecretValue, reveal

if TYPE_CHECKING:
    from pulumi_metal_reset.delivery.models import CommandTarget, FileTarget

__all__ = [
    "FINGERPRINT_CONTEXT",
    "HISTORY_LIMIT",
    "describe",
    "entries",
    "fingerprint",
    "history_entry",
    "mark_delivered",
    "record_rotation",
]

FINGERPRINT_CONTEXT = "pulumi-metal-reset/password-fingerprint/v1/"
HISTORY_LIMIT = 20


def fingerprint(password: str | SecretValue, resource_id: str) -> str:
    """`fp-` and 16 hex digits of HMAC-SHA256(context + resource id, password)."""
    key = (FINGERPRINT_CONTEXT + resource_id).encode("utf-8")
    digest = hmac.new(key, reveal(password).encode("utf-8"), hashlib.sha256).hexdigest()
    return "fp-" + digest[:16]


def describe(target: CommandTarget | FileTarget) -> str:
    """Where a password goes, with nothing secret: argv in full, environment names only."""
    if target.kind == "file":
        return f"file: {target.path} ({target.mode})"
    text = f"command: {shlex.join(target.argv)}"
    if target.env:
        text += f" (env: {', '.join(sorted(target.env))})"
    return text


def history_entry(
    *, at: str, reason: str | None, slot: str | None, fingerprint: str, delivered_to: str | None
) -> dict[str, Any]:
    """One `rotation_history` entry; `delivered_to` is a `describe` text or None.

    A key whose value is None is left out: Pulumi's SDK drops null values inside maps whenever
    it reads properties back (in `diff`, `update`, `read` and in programs), so an entry keeps
    one shape however often it crosses the wire. Readers use `.get("slot")`.
    """
    entry = {
        "at": at,
        "reason": reason,
        "slot": slot,
        "fingerprint": fingerprint,
        "delivered_to": delivered_to,
    }
    return {key: value for key, value in entry.items() if value is not None}


def entries(history: Any) -> list[dict[str, Any]]:
    """The recorded history, tolerating state written before it existed (None) or hand-edited."""
    if not isinstance(history, Sequence) or isinstance(history, str):
        return []
    return [dict(entry) for entry in history if isinstance(entry, Mapping)]


def record_rotation(
    history: Any, entry: Mapping[str, Any], limit: int = HISTORY_LIMIT
) -> list[dict[str, Any]]:
    """The history with `entry` appended, oldest first, keeping the last `limit` entries."""
    return [*entries(history), dict(entry)][-limit:]


def mark_delivered(history: Any, fingerprint: str, delivered_to: str) -> list[dict[str, Any]]:
    """The history with the latest entry marked delivered, when it is this password's rotation."""
    recorded = entries(history)
    if recorded and recorded[-1].get("fingerprint") == fingerprint:
        recorded[-1] = {**recorded[-1], "delivered_to": delivered_to}
    return recorded

"""A local emulator of Equinix Metal's password-reset endpoints, for demos, tests and CI.

Equinix has ended Metal, so this is how the provider is tried and tested. Start it with

    python -m pulumi_metal_reset.emulator [--port 0] [--token TOKEN[=USER] ...] [fault flags]

which prints its base URL (ending in `/metal/v1`) as the first line on stdout and serves until
SIGINT or SIGTERM (see `python -m pulumi_metal_reset.emulator --help`), or in process with

    with Emulator(tokens={"tok-a": "alice"}) as emu:
        emu.url, emu.journal, emu.faults, emu.password_of("alice")

Without tokens it accepts `DEV_TOKEN` as user `dev`. A token given without a user name belongs to
the user `user-<12 hex digits of the token's SHA-256>`: named after the token, yet the token
never shows in the journal or logs.

Endpoints, per the spec (tests/reference/equinix-metal-openapi):

- `POST /metal/v1/reset-password?email=E`: 201, empty body; 422 for a missing or invalid email.
- `DELETE /metal/v1/reset-password`: 201 `{"new_password": ...}`, a fresh password each time.
- 401 without a valid `X-Auth-Token`, 404 for other paths, 405 (with `Allow`) for other methods;
  every error body is JSON in the spec's Error shape.
- Checked in this order: path (404), method (405), injected fault, token (401), email (422).
- The query is decoded like an HTML form, as the Rails app behind the real API does: `%2B` is a
  plus, a raw `+` a space (so an unencoded `a+b@x.io` is refused with 422).

Control API (no auth, loopback only, never faulted, never journaled):

- `GET /_emulator/faults`: the fault configuration plus `script_remaining`.
- `PUT /_emulator/faults`: replace it (omitted fields take their defaults); `PATCH`: change only
  the given fields; `DELETE`: no faults. 422 `{"errors": [...]}` for an invalid setting.
- `GET /_emulator/journal`: `{"entries": [...]}`; `DELETE /_emulator/journal`: `{"cleared": n}`.

A port that is already taken raises `PortInUseError` (an `OSError`) whose message suggests port 0,
which takes any free port. Faults are described in `faults.py`, the journal in `journal.py`.
Passwords are available in process only (`Emulator.password_of`), never over HTTP, in the journal
or in logs.
"""

from __future__ import annotations

from pulumi_metal_reset.emulator.accounts import DEV_TOKEN, DEV_USER
from pulumi_metal_reset.emulator.faults import (
    FAULT_STATUSES,
    MALFORMED_KINDS,
    SCRIPT_OUTCOMES,
    FaultConfig,
    FaultConfigError,
    Faults,
)
from pulumi_metal_reset.emulator.journal import JournalEntry
from pulumi_metal_reset.emulator.server import Emulator, PortInUseError

__all__ = [
    "DEV_TOKEN",
    "DEV_USER",
    "FAULT_STATUSES",
    "MALFORMED_KINDS",
    "SCRIPT_OUTCOMES",
    "Emulator",
    "FaultConfig",
    "FaultConfigError",
    "Faults",
    "JournalEntry",
    "PortInUseError",
]

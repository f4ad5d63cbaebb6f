"""The audit's findings: pure functions of the exports, the settings and the time given.

A message never holds a secret: a field stored as a secret is judged (when its plaintext is in
the export) but never quoted, and nothing else a message names (URNs, stack names, settings,
non-secret times and periods) can be one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_metal_reset import schedule
from pulumi_metal_reset.audit import rules
from pulumi_metal_reset.audit.export import ExportedStack, ExportError, Value
from pulumi_metal_reset.audit.fields import TokenState, token_state

__all__ = ["KINDS", "Finding", "Report", "Settings", "audit"]

#: Finding kinds, in the order they are listed for one resource.
KINDS = (
    "overdue",
    "never-rotated",
    "no-schedule-no-triggers",
    "period-too-long",
    "password-in-state",
    "shared-api-user",
)
_HINT = "re-export the stack with `pulumi stack export`"
_UP = "run `pulumi up` on this stack"


@dataclass(frozen=True)
class Settings:
    now: int
    max_age: int
    grace: int = 0
    require_write_only: bool = False


@dataclass(frozen=True)
class Finding:
    source: str
    project: str
    stack: str
    urn: str
    kind: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {
            "stack": self.stack,
            "project": self.project,
            "urn": self.urn,
            "kind": self.kind,
            "message": self.message,
            "source": self.source,
        }


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    tokens: int
    stacks: int


def audit(stacks: Sequence[ExportedStack], settings: Settings) -> Report:
    tokens = [
        token_state(resource, stack.source)
        for stack in stacks
        for resource in stack.resources
        if resource.type == rules.TOKEN_TYPE and not resource.delete
    ]
    sharing = _sharing(tokens)
    findings: list[Finding] = []
    for token in tokens:
        messages = {
            "overdue": _overdue(token, settings),
            "never-rotated": _never_rotated(token, settings),
            "no-schedule-no-triggers": _no_rotation(token),
            "period-too-long": _period_too_long(token, settings),
            "password-in-state": _password_in_state(token, settings),
            "shared-api-user": _shared(token, sharing),
        }
        resource = token.resource
        findings.extend(
            Finding(token.source, resource.project, resource.stack, resource.urn, kind, message)
            for kind, message in messages.items()
            if message is not None
        )
    return Report(tuple(findings), len(tokens), len(stacks))


def _where(token: TokenState, name: str) -> str:
    return f"{token.source}: {token.resource.urn} property {name}"


def _time(token: TokenState, name: str, value: Value) -> int | None:
    if not value.present or not value.known or value.value is None:
        return None
    try:
        if not isinstance(value.value, str):
            raise ValueError("not a string")
        return schedule.parse_timestamp(value.value)
    except ValueError:
        raise ExportError(f"{_where(token, name)} is not an RFC 3339 time; {_HINT}.") from None


def _age(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}" + ("" if count == 1 else "s")
    return "under a minute"


def _stamp(value: Value, seconds: int) -> str:
    return "" if value.secret else f" ({schedule.format_timestamp(seconds)})"


def _overdue(token: TokenState, settings: Settings) -> str | None:
    due = _time(token, "next_rotation_at", token.next_rotation_at)
    if due is None or settings.now <= due + settings.grace:
        return None
    grace = f", beyond the grace of {_age(settings.grace)}" if settings.grace else ""
    return (
        f"The scheduled rotation{_stamp(token.next_rotation_at, due)} is "
        f"{_age(settings.now - due)} overdue{grace}; {_UP} to rotate the password."
    )


def _never_rotated(token: TokenState, settings: Settings) -> str | None:
    count, rotated_at = token.rotation_count, token.rotated_at
    if count.present:
        if not count.known:
            return None
        if isinstance(count.value, bool) or not isinstance(count.value, (int, float, type(None))):
            raise ExportError(f"{_where(token, 'rotation_count')} is not a number; {_HINT}.")
        if count.value:
            return None
    elif not rotated_at.known or rotated_at.value is not None:
        return None
    limit = rules.describe_period(settings.max_age)
    requested = _time(token, "requested_at", token.requested_at)
    created = _created(token)
    fix = f"change a rotation trigger or let the schedule fall due, and {_UP}."
    # An email change mails again and sets requested_at anew; the engine's `created` does not
    # move, so the older of the two is when the token began.
    if created is not None and (requested is None or created < requested):
        since = created
        began = f"the resource was created ({schedule.format_timestamp(created)})"
    elif requested is not None:
        since = requested
        began = f"the token was requested{_stamp(token.requested_at, requested)}"
    else:
        return f"The password was never rotated (the state has no request time); {fix}"
    age = settings.now - since
    if age <= settings.max_age:
        return None
    return (
        f"The password was never rotated in the {_age(age)} since {began}, longer than the "
        f"maximum age of {limit}; {fix}"
    )


def _created(token: TokenState) -> int | None:
    """The engine's `created` time of the resource; None when absent or not RFC 3339 (an
    engine field, not the provider's, so an odd one is passed over rather than refused)."""
    created = token.resource.created
    try:
        return None if created is None else schedule.parse_timestamp(created)
    except ValueError:
        return None


def _no_rotation(token: TokenState) -> str | None:
    every, triggers = token.rotate_every, token.rotation_triggers
    if not (every.known and triggers.known):
        return None  # the export cannot tell (an absent field is known, its value None)
    if not rules.never_rotates(every.value, triggers.value):
        return None
    return (
        "It has neither rotate_every nor rotation_triggers, so nothing ever rotates the "
        f'password; add rotate_every (for example "30d") or a rotation trigger and {_UP}.'
    )


def _period_too_long(token: TokenState, settings: Settings) -> str | None:
    value = token.rotate_every
    if not value.known:
        period = _scheduled_period(token)  # encrypted: the schedule's outputs still tell it
    elif value.value is None:
        return None
    else:
        try:
            period = rules.period_seconds(value.value)
        except ValueError as err:
            raise ExportError(f"{_where(token, 'rotate_every')} {err}; {_HINT}.") from None
    if period is None or period <= settings.max_age:
        return None
    limit = rules.describe_period(settings.max_age)
    shown = "(kept as a secret)" if value.secret else f"is {rules.describe_period(period)},"
    return (
        f"rotate_every {shown} longer than the maximum age of {limit}; set it to {limit} or "
        f"less and {_UP}."
    )


def _scheduled_period(token: TokenState) -> int | None:
    """`rotate_every` as the recorded schedule shows it: `next_rotation_at` is the slot plus
    the period (`schedule.next_rotation`), and neither is kept as a secret."""
    slot = _time(token, "rotation_slot", token.rotation_slot)
    due = _time(token, "next_rotation_at", token.next_rotation_at)
    return None if slot is None or due is None or due <= slot else due - slot


def _password_in_state(token: TokenState, settings: Settings) -> str | None:
    value = token.store_password
    if not settings.require_write_only or not value.known:
        return None
    if not rules.keeps_password(value.value if value.present else None):
        return None
    return (
        "store_password is true or unset, so the latest password is kept (encrypted) in the "
        "stack state, where write-only delivery is required; set store_password=False with "
        f"deliver_to and {_UP}."
    )


def _credential(token: TokenState) -> str | None:
    value = token.credential_id
    return rules.credential_key(value.value) if value.known else None


def _sharing(
    tokens: Sequence[TokenState],
) -> dict[str, dict[tuple[str, str], TokenState]]:
    """credential id -> (URN, id) -> token, for ids two distinct resources hold; one resource
    exported twice counts once."""
    by_key: dict[tuple[str, str], TokenState] = {}
    for token in tokens:  # one resource: its URN and its id (a URN does not name the org)
        by_key.setdefault((token.resource.urn, token.resource.id), token)
    groups = rules.shared((key, _credential(token)) for key, token in by_key.items())
    return {cred: {key: by_key[key] for key in keys} for cred, keys in groups.items()}


def _shared(token: TokenState, sharing: dict[str, Any]) -> str | None:
    credential = _credential(token)
    group: dict[tuple[str, str], TokenState] | None = (
        sharing.get(credential) if credential else None
    )
    if group is None:
        return None
    mine = (token.resource.urn, token.resource.id)
    others = ", ".join(
        f"{o.resource.name} ({o.resource.project}/{o.resource.stack})"
        for key, o in group.items()
        if key != mine
    )
    which = "the same credential_id" if token.credential_id.secret else f"credential {credential}"
    return (
        f"This token uses the same API user as {others} ({which}); every rotation resets that "
        "user's password, so each resource overwrites the password the others recorded. Give "
        "each resource its own API token."
    )

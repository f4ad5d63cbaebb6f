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
from pulumi_metal_reset.audit.export import (
    ExportedResource,
    ExportedStack,
    ExportError,
    PendingOperation,
    Value,
    decode,
)
from pulumi_metal_reset.audit.fields import TokenState, token_state

__all__ = ["KINDS", "Finding", "Report", "Settings", "audit"]

#: Finding kinds, in the order they are listed for one resource.
KINDS = (
    "overdue",
    "never-rotated",
    "no-schedule-no-triggers",
    "period-too-long",
    "password-in-state",
    "delivery-pending",
    "interrupted",
    "secret-in-clear",
    "shared-api-user",
    "unreadable-value",
)
_HINT = (
    "the state holds a value the provider never writes: correct it with `pulumi stack export`, "
    "an edit and `pulumi stack import`, or let the next rotation record it again"
)
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
    """Judge every token; one whose state holds a value the provider never writes is reported
    as `unreadable-value` and judged no further, so it hides no other resource's findings.
    A stack's interrupted operations follow its resources' findings."""
    # Per stack, in state order; a Finding stands for an unreadable token.
    entries: list[list[TokenState | Finding]] = []
    for stack in stacks:
        entries.append([])
        for resource in stack.resources:
            if resource.type != rules.TOKEN_TYPE or resource.delete:
                continue
            try:
                entries[-1].append(token_state(resource, stack.source))
            except ExportError as err:
                entries[-1].append(_unreadable(stack.source, resource, err))
    sharing = _sharing([e for each in entries for e in each if isinstance(e, TokenState)])
    findings: list[Finding] = []
    for stack, tokens in zip(stacks, entries, strict=True):
        for entry in tokens:
            judged = [entry] if isinstance(entry, Finding) else _judge(entry, settings, sharing)
            findings.extend(judged)
        findings.extend(f for op in stack.pending if (f := _interrupted(stack, op)))
    return Report(tuple(findings), sum(len(each) for each in entries), len(stacks))


#: What an operation that never ended may have done to the API, and what to do; an operation
#: that calls no API (`reading`, `importing`: the provider's Read keeps the state) has none.
#: The next deployment drops every pending operation but a create, which needs
#: `--clear-pending-creates` (`pkg/backend/snapshot.go`, `pkg/cmd/pulumi/operations/refresh.go`).
_INTERRUPTED = {
    "creating": (
        "A `pulumi up` was interrupted while creating this token (a pending creating "
        "operation): the API may have mailed a reset token and, with rotate_on_create, reset "
        "the password, and the stack state records neither; run `pulumi refresh "
        "--clear-pending-creates`, then `pulumi up` to create it again, which with "
        "rotate_on_create records a password the API holds."
    ),
    "updating": (
        "A `pulumi up` was interrupted while updating this token (a pending updating "
        "operation): if the update rotated the password, the API reset it and the new password "
        "reached neither the stack state nor its sink; the state still holds the old inputs, so "
        "the rotation is still due: run `pulumi up`, which clears the operation and rotates "
        "again to a password the state records."
    ),
    "deleting": (
        "A run was interrupted while deleting this token (a pending deleting operation) whose "
        "last rotated password still waited for its sink, so the secret store may hold an older "
        "password than the API; the token is still in the state, so the next `pulumi up` or "
        "`pulumi destroy` clears the operation and deletes it again, delivering the waiting "
        "password first."
    ),
}


def _interrupted(stack: ExportedStack, op: PendingOperation) -> Finding | None:
    """A token's operation that began and never ended, when it may have changed the API.

    A delete calls the API only to deliver a password waiting in state (`delivery_pending`).
    """
    resource = op.resource
    message = _INTERRUPTED.get(op.type)
    if resource.type != rules.TOKEN_TYPE or message is None:
        return None
    if op.type == "deleting":
        try:
            waiting = _waits(decode(resource.outputs.get("delivery_pending"), resource.urn))
        except ExportError:
            waiting = True  # malformed: it may hold a waiting password
        if not waiting:
            return None
    return Finding(
        stack.source, resource.project, resource.stack, resource.urn, "interrupted", message
    )


def _judge(token: TokenState, settings: Settings, sharing: dict[str, Any]) -> list[Finding]:
    resource = token.resource
    try:
        messages = {
            "overdue": _overdue(token, settings),
            "never-rotated": _never_rotated(token, settings),
            "no-schedule-no-triggers": _no_rotation(token),
            "period-too-long": _period_too_long(token, settings),
            "password-in-state": _password_in_state(token, settings),
            "delivery-pending": _delivery_pending(token),
            "secret-in-clear": _secret_in_clear(token),
            "shared-api-user": _shared(token, sharing),
        }
    except ExportError as err:
        return [_unreadable(token.source, resource, err)]
    return [
        Finding(token.source, resource.project, resource.stack, resource.urn, kind, message)
        for kind, message in messages.items()
        if message is not None
    ]


def _unreadable(source: str, resource: ExportedResource, err: ExportError) -> Finding:
    return Finding(
        source, resource.project, resource.stack, resource.urn, "unreadable-value", str(err)
    )


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


_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60))


def _age(seconds: int) -> str:
    for unit, size in _UNITS:
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}" + ("" if count == 1 else "s")
    return "under a minute"


def _exact_age(seconds: int) -> str:
    """Days, hours, minutes and seconds, so an age just over a limit never reads as equal."""
    parts = []
    for unit, size in (*_UNITS, ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}" + ("" if count == 1 else "s"))
    return ", ".join(parts) if parts else "0 seconds"


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
    if age <= settings.max_age + settings.grace:
        return None
    grace = f" and the grace of {_exact_age(settings.grace)}" if settings.grace else ""
    return (
        f"The password was never rotated in the {_exact_age(age)} since {began}, longer than "
        f"the maximum age of {limit}{grace}; {fix}"
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
    if rules.keeps_password(value.value if value.present else None):
        return (
            "store_password is true or unset, so the latest password is kept (encrypted) in the "
            "stack state, where write-only delivery is required; set store_password=False with "
            f"deliver_to and {_UP}."
        )
    if _holds(token.new_password):  # a delivery failed after the reset: it waits in state
        return (
            "store_password is false, but a password is held (encrypted) in the stack state as "
            "new_password, where write-only delivery is required, because its delivery has not "
            f"succeeded; fix the secret store or deliver_to and {_UP} to deliver it and drop it "
            "from state."
        )
    return None


def _holds(value: Value) -> bool:
    """A value is there: known and not null, or a secret whose ciphertext hides it (the
    provider's None outputs are left out of state, so an encrypted one holds something)."""
    return value.present and (not value.known or value.value is not None)


def _waits(pending: Value) -> bool:
    """`delivery_pending` says a password waits for its sink (`rules.delivery_waits`, as the
    pack reads it), or hides what it says in ciphertext."""
    return _holds(pending) and (not pending.known or rules.delivery_waits(pending.value))


def _delivery_pending(token: TokenState) -> str | None:
    """Always on: the secret store holds an older password than the API until the next up."""
    if not _waits(token.delivery_pending):
        return None
    return (
        "The last rotated password was not delivered (delivery_pending is set), so the secret "
        "store holds an older password than the API and the new one waits (encrypted) in the "
        f"stack state; fix the secret store or deliver_to and {_UP} to deliver it."
    )


def _secret_in_clear(token: TokenState) -> str | None:
    """A password or API token stored without Pulumi's secret wrapper (a transform, or state
    edited by hand): anyone who can read the state has it. The value is never quoted."""
    names = [
        name
        for name, value in (("new_password", token.new_password), ("auth_token", token.auth_token))
        if value.known and value.value is not None and not value.secret
    ]
    if not names:
        return None
    which = " and ".join(names)
    return (
        f"{which} {'is' if len(names) == 1 else 'are'} stored in clear text in the stack state, "
        "not as a Pulumi secret, so anyone who can read the state has it; make it a secret "
        f"(pulumi.Output.secret, or `pulumi config set --secret`), {_UP}, then rotate the "
        "exposed password or API token."
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

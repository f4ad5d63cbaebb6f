"""Review rules shared by `metal-reset audit` and the policy pack in `policy/`.

Pure functions on plain values: no Pulumi, no HTTP, no clock. The audit reads the values from an
exported stack, the policy pack from the checked inputs the engine sends to Analyze (or the
outputs it sends to AnalyzeStack), so both judge a token by the same rules. They differ in
what they apply them to: the pack's `max-rotation-age` also blocks a token whose `rotate_every`
is unset, which the audit's `period-too-long` leaves to `no-schedule-no-triggers`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pulumi_metal_reset import schedule
from pulumi_metal_reset.unknowns import UNKNOWN_SENTINEL

__all__ = [
    "DEFAULT_MAX_AGE",
    "TOKEN_TYPE",
    "allowed_list",
    "credential_key",
    "describe_period",
    "domain_allowed",
    "email_domain",
    "keeps_password",
    "never_rotates",
    "parse_age",
    "period_seconds",
    "shared",
]

#: The type token of every PasswordResetToken in state (a public contract; it never moves).
TOKEN_TYPE = "pulumi-python:dynamic/metal:PasswordResetToken"  # noqa: S105 (a type token)

#: The longest rotation period allowed unless configured otherwise.
DEFAULT_MAX_AGE = "90d"

K = TypeVar("K", bound=Hashable)


def period_seconds(value: Any) -> int | None:
    """Seconds of a `rotate_every` value, normalised (`P30D`) or raw (`30d`, seconds); None when
    unset. Raises ValueError with a reason when it is not a fixed-length duration."""
    if value is None:
        return None
    return schedule.parse_duration(value)


def parse_age(value: Any) -> int:
    """A configured maximum age or grace (`90d`, `P90D`, seconds). ValueError with a reason."""
    if value is None:
        raise ValueError("is not set")
    return schedule.parse_duration(value)


def describe_period(seconds: int) -> str:
    """A period as a reader says it: `365 days`, `12 hours`, else the ISO form (`PT90M`)."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}" + ("" if count == 1 else "s")
    return schedule.format_duration(seconds)


def never_rotates(rotate_every: Any, rotation_triggers: Any) -> bool:
    """No schedule and no trigger: nothing can ever rotate the password after creation.

    One run shows only whether triggers exist, never whether their values will change, so a
    token with any trigger (even an empty string) is not counted.
    """
    return rotate_every is None and not rotation_triggers


def delivery_waits(delivery_pending: Any) -> bool:
    """A rotated password waits in state for its sink: the provider sets `delivery_pending`
    to a sentence, and leaves it out (None) otherwise."""
    return delivery_pending is not None and delivery_pending != ""


def keeps_password(store_password: Any) -> bool:
    """The new password stays in state unless `store_password` is exactly false (the default,
    and the value of state written before the input existed, is true)."""
    return store_password is not False


def credential_key(value: Any) -> str | None:
    """A `credential_id` usable for grouping, or None when absent, empty or still unknown."""
    if not isinstance(value, str) or not value or value == UNKNOWN_SENTINEL:
        return None
    return value


def email_domain(email: Any) -> str | None:
    """The lower-cased domain of an address, or None when there is none to read."""
    if not isinstance(email, str) or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().rstrip(".").lower()
    return domain or None


def domain_allowed(domain: str | None, allowed: Sequence[str]) -> bool:
    """True when `allowed` is empty or names the domain.

    An entry `example.com` matches that domain only; `*.example.com` matches its subdomains
    (not `example.com` itself). Comparison ignores case, a leading `@` and a trailing dot, and
    whether a domain is written in Unicode or in its IDNA form (`bücher.example` is
    `xn--bcher-kva.example`): `check` records the first, an allow-list may hold either.
    """
    entries = [_ascii(e.strip().lstrip("@").rstrip(".").lower()) for e in allowed if e.strip()]
    if not entries:
        return True
    if domain is None:
        return False
    domain = _ascii(domain)
    for entry in entries:
        if entry.startswith("*."):
            if domain.endswith(entry[1:]) and domain != entry[2:]:
                return True
        elif domain == entry:
            return True
    return False


def _ascii(domain: str) -> str:
    """`domain` in its IDNA (ASCII) form, as email-validator derives it for the API (a `*.`
    prefix kept); as it is when it is ASCII already or no valid domain."""
    if domain.isascii():
        return domain
    wildcard, name = ("*.", domain[2:]) if domain.startswith("*.") else ("", domain)
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(f"x@{name}", check_deliverability=False)
    except EmailNotValidError:
        return domain
    return wildcard + str(checked.ascii_domain).lower()


def shared(items: Iterable[tuple[K, str | None]]) -> dict[str, list[K]]:
    """Group keys by credential id; only ids held by two or more keys are returned."""
    groups: dict[str, list[K]] = {}
    for key, credential in items:
        if credential is not None:
            groups.setdefault(credential, []).append(key)
    return {cred: keys for cred, keys in groups.items() if len(keys) > 1}


def allowed_list(value: Any) -> list[str]:
    """The `domains` setting as a list of strings (anything else reads as empty)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return [v for v in value if isinstance(v, str)]
    return []

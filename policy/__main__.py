"""The pulumi-metal-reset policy pack: `pulumi preview --policy-pack policy/`.

The engine starts this directory through the Python language host, which runs
`python -u -m pulumi.policy <engine-address> <this directory>` with the working directory set
here; that runs this file, and `PolicyPack(...)` serves the Analyzer gRPC service (it prints its
port and never returns). The rules are shared with `metal-reset audit`
(`pulumi_metal_reset.audit.rules`), so the pack needs pulumi-metal-reset installed beside
pulumi-policy.

Analyze hands a policy every checked input in clear, `auth_token` and secret trigger values
included, so no message quotes an input value: messages name properties and periods only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from pulumi_metal_reset.audit import rules

_EXAMPLE_PERIOD = '"30d"'


def _is_token(args: ResourceValidationArgs) -> bool:
    return args.resource_type == rules.TOKEN_TYPE


def max_rotation_age(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """`rotate_every` is set and no longer than `maxAge`; it may arrive normalised or raw."""
    if not _is_token(args):
        return
    configured: Any = args.get_config().get("maxAge", rules.DEFAULT_MAX_AGE)
    try:
        limit = rules.parse_age(configured)
    except ValueError as err:
        report(
            f"The policy's maxAge setting {configured!r} {err}; set maxAge in the policy pack "
            'config to a fixed-length duration such as "90d".',
            None,
        )
        return
    allowed = rules.describe_period(limit)
    try:
        period = rules.period_seconds(args.props.get("rotate_every"))
    except ValueError as err:
        report(f"rotate_every {err}; give a period of at most {allowed}.", None)
        return
    if period is None:
        report(
            "rotate_every is not set, so the password is never rotated on a schedule; set "
            f"rotate_every to at most {allowed}, for example rotate_every={_EXAMPLE_PERIOD}.",
            None,
        )
    elif period > limit:
        # The period itself is not quoted: the input may be a secret, and Analyze cannot tell.
        report(
            f"rotate_every is longer than the maximum of {allowed}; set it to {allowed} or less.",
            None,
        )


def token_never_rotates(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """No schedule and no trigger. A trigger is not read for its value: one run cannot show
    whether it will ever change."""
    if not _is_token(args) or args.props.get("rotate_every") is not None:
        return
    if rules.never_rotates(None, args.props.get("rotation_triggers")):
        report(
            "This token has neither rotate_every nor rotation_triggers, so the password it "
            "manages never changes after creation; add rotate_every (for example "
            f"{_EXAMPLE_PERIOD}) or a rotation trigger.",
            None,
        )


def allowed_email_domains(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """The reset email's domain is on the `domains` list (empty: any domain)."""
    if not _is_token(args):
        return
    allowed = rules.allowed_list(args.get_config().get("domains"))
    if not allowed:
        return
    if not rules.domain_allowed(rules.email_domain(args.props.get("email")), allowed):
        report(
            f"The reset email goes to a domain outside the allowed list ({', '.join(allowed)}); "
            "mail the token to an address in one of those domains.",
            None,
        )


def password_kept_in_state(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """`store_password` true, or unset (its default), keeps every new password in state."""
    if not _is_token(args):
        return
    if rules.keeps_password(args.props.get("store_password")):
        report(
            "store_password is true or unset, so each new password is kept (encrypted) in the "
            "stack state; set store_password=False and deliver the password with deliver_to.",
            None,
        )


def _token_outputs(args: StackValidationArgs, name: str) -> Iterator[tuple[Any, Any]]:
    """Each token of the stack with its output `name`, where known: a preview's planned
    outputs may not know it yet, and then nothing can be said."""
    for resource in args.resources:
        if resource.resource_type != rules.TOKEN_TYPE:
            continue
        try:
            value = resource.props.get(name)
        except UnknownValueError:
            continue
        yield resource, value


def delivery_pending(args: StackValidationArgs, report: ReportViolation) -> None:
    """`delivery_pending` (an output) is set: a rotated password reached the API but not its
    sink. A stack policy, so that it runs after `up` on the outputs the run recorded."""
    for resource, pending in _token_outputs(args, "delivery_pending"):
        if rules.delivery_waits(pending):
            # The value is a sentence about the sink's failure (it may quote its output), so
            # it is not repeated here.
            report(
                "The last rotated password was not delivered (delivery_pending is set), so the "
                "secret store holds an older password than the API and the new one waits "
                "(encrypted) in the stack state; fix the secret store or deliver_to and run "
                "`pulumi up` to deliver it.",
                resource.urn,
            )


def one_token_per_api_user(args: StackValidationArgs, report: ReportViolation) -> None:
    """Group the stack's tokens by `credential_id` (an output); absent or unknown ids are
    skipped, so a preview that cannot know an id yet reports nothing for it."""
    names: dict[str, str] = {}
    keyed: list[tuple[str, str | None]] = []
    for resource, credential in _token_outputs(args, "credential_id"):
        names[resource.urn] = resource.name
        keyed.append((resource.urn, rules.credential_key(credential)))
    for urns in rules.shared(keyed).values():
        for urn in urns:
            others = ", ".join(names[other] for other in urns if other != urn)
            report(
                f"This token uses the same API user as {others} (the same credential_id); "
                "every rotation resets that user's password, so each resource overwrites the "
                "password the others recorded. Give each resource its own API token, or keep "
                "one resource.",
                urn,
            )


POLICIES = [
    ResourceValidationPolicy(
        name="max-rotation-age",
        description=(
            "A PasswordResetToken rotates the password on a schedule no longer than the "
            "configured maximum age (maxAge, 90 days by default)."
        ),
        validate=max_rotation_age,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
        config_schema=PolicyConfigSchema(
            properties={
                "maxAge": {
                    "type": ["string", "integer"],
                    "default": rules.DEFAULT_MAX_AGE,
                    "description": "Longest allowed rotate_every: 90d, P90D, 2160h or seconds.",
                },
            },
        ),
    ),
    ResourceValidationPolicy(
        name="token-never-rotates",
        description=(
            "A PasswordResetToken rotates the password: on a schedule (rotate_every) or when "
            "its rotation_triggers change."
        ),
        validate=token_never_rotates,
        enforcement_level=EnforcementLevel.ADVISORY,
        severity=Severity.MEDIUM,
    ),
    ResourceValidationPolicy(
        name="allowed-email-domains",
        description="A PasswordResetToken mails its reset token to an allowed domain.",
        validate=allowed_email_domains,
        enforcement_level=EnforcementLevel.ADVISORY,
        severity=Severity.MEDIUM,
        config_schema=PolicyConfigSchema(
            properties={
                "domains": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": [],
                    "description": (
                        "Allowed domains: example.com (that domain) or *.example.com (its "
                        "subdomains). Empty allows any domain."
                    ),
                },
            },
        ),
    ),
    ResourceValidationPolicy(
        name="password-kept-in-state",
        description=(
            "Where write-only delivery is required, a PasswordResetToken does not keep the new "
            "password in the stack state."
        ),
        validate=password_kept_in_state,
        enforcement_level=EnforcementLevel.DISABLED,
        severity=Severity.HIGH,
    ),
    StackValidationPolicy(
        name="delivery-pending",
        description=(
            "Every rotated password reached its sink: none waits in the stack state for a "
            "delivery that failed."
        ),
        validate=delivery_pending,
        enforcement_level=EnforcementLevel.ADVISORY,
        severity=Severity.HIGH,
    ),
    StackValidationPolicy(
        name="one-token-per-api-user",
        description=(
            "At most one PasswordResetToken per API user in a stack: a rotation resets the "
            "password of the user who owns the API token."
        ),
        validate=one_token_per_api_user,
        enforcement_level=EnforcementLevel.ADVISORY,
        severity=Severity.HIGH,
    ),
]

if __name__ == "__main__":
    PolicyPack(name="metal-reset", enforcement_level=EnforcementLevel.ADVISORY, policies=POLICIES)

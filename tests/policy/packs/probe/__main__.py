"""A probe pack: each policy reports, as JSON, what reached it. Test-only; values are not secret.

`mark` remediates (adds `remediated` and notes whether Remediate saw the `__provider` key), so a
test can see that Analyze runs after Remediate, on its result, without internal keys.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.runtime
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(value[k]) for k in value}
    return value


def probe(args: ResourceValidationArgs, report: ReportViolation) -> None:
    seen = {
        "project": pulumi.get_project(),
        "stack": pulumi.get_stack(),
        "dry_run": pulumi.runtime.is_dry_run(),
        "greeting_config": pulumi.Config("probe").get("greeting"),
        "organization": os.environ.get("PULUMI_ORGANIZATION"),
        "cwd": os.getcwd(),
        "type": args.resource_type,
        "urn": args.urn,
        "name": args.name,
        "props": _plain(args.props),
        "protect": args.opts.protect,
        "parent": args.opts.parent,
        "delete_before_replace": args.opts.delete_before_replace,
        "ignore_changes": list(args.opts.ignore_changes),
        "provider": None if args.provider is None else args.provider.urn,
        "policy_config": dict(args.get_config()),
        "tags": dict(args.stack_tags),
    }
    report(json.dumps(seen, sort_keys=True), None)


def mark(args: ResourceValidationArgs) -> Mapping[str, Any]:
    props = args.props
    props["remediated"] = True  # type: ignore[index]
    props["remediate_saw_provider_key"] = "__provider" in props  # type: ignore[index]
    return props


def stack_probe(args: StackValidationArgs, report: ReportViolation) -> None:
    for resource in args.resources:
        report(
            json.dumps(
                {
                    "props": _plain(resource.props),
                    "parent": None if resource.parent is None else resource.parent.urn,
                    "dependencies": [d.urn for d in resource.dependencies],
                },
                sort_keys=True,
            ),
            resource.urn,
        )
    report("about the stack", None)
    report("about a resource outside the stack", "urn:pulumi:dev::probe::x:y:Z::elsewhere")


PolicyPack(
    name="probe",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(
            name="probe",
            description="Reports what Analyze received.",
            validate=probe,
            config_schema=PolicyConfigSchema(
                properties={"greeting": {"type": "string", "default": "hello"}}
            ),
        ),
        ResourceValidationPolicy(
            name="mark",
            description="Marks the inputs it remediates.",
            # pulumi-policy annotates only an awaitable result; Remediate accepts a plain one too.
            remediate=mark,  # type: ignore[arg-type]
            enforcement_level=EnforcementLevel.REMEDIATE,
        ),
        StackValidationPolicy(
            name="stack-probe",
            description="Reports what AnalyzeStack received.",
            validate=stack_probe,
        ),
    ],
)

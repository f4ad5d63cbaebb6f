"""The `Policies:` section of the CLI's default (progress) display."""

from __future__ import annotations

import os
from collections.abc import Sequence

from pulumi_metal_reset.testing._urns import urn_name, urn_type

from .records import PackInfo, PolicyRemediation, PolicyViolation, run_failed

_MARK = {"fail": "\u274c", "warn": "\u26a0\ufe0f", "pass": "\u2705"}
_LEVEL_RANK = {"remediate": 0, "mandatory": 1, "advisory": 2, "disabled": 3}
_SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "": 4}


def _display_type(type_: str) -> str:
    """tokens.Type.DisplayName: `pkg:mod/file:Name` drops `/file` when file is camelCase(Name)."""
    parts = type_.split(":")
    if len(parts) != 3 or not parts[2] or "/" not in parts[1]:
        return type_
    module, file = parts[1].rsplit("/", 1)
    if file != parts[2][:1].lower() + parts[2][1:]:
        return type_
    return f"{parts[0]}:{module}:{parts[2]}"


def _clause(urn: str) -> str:
    if not urn.startswith("urn:pulumi:") or urn.count("::") < 3:
        return ""
    return f"  ({_display_type(urn_type(urn))}: {urn_name(urn)})"


def _abbreviate(path: str) -> str:
    """engine.abbreviateFilePath: a cleaned path; past 75 characters, the middle becomes `...`."""
    path = os.path.normpath(path)
    dirs = path.split("/")
    if len(path) > 75 and len(dirs) > 4:
        path = "/".join([*dirs[:2], "...", *dirs[-2:]])
    return path


def violation_text(v: PolicyViolation) -> str:
    """``renderDiffPolicyViolationEvent`` without indentation: the heading
    (``[<level>] [severity: <s>]  <policy>  (<type>: <name>)``), then the message."""
    severity = f" [severity: {v.severity}]" if v.severity else ""
    heading = f"[{v.enforcement_level}]{severity}  {v.policy_name}{_clause(v.urn)}"
    return f"{heading}\n{v.message.removesuffix(chr(10))}"


def render_policies(
    packs: Sequence[PackInfo],
    violations: Sequence[PolicyViolation],
    remediations: Sequence[PolicyRemediation] = (),
) -> str:
    """The `Policies:` section the CLI's default display prints after a preview or update.

    When a mandatory violation is shown the CLI prints no `Resources:` summary after it.
    """
    groups: dict[str, tuple[list[str], list[PolicyViolation], list[PolicyRemediation]]] = {}
    for pack in packs:
        groups.setdefault(f"{pack.name}@v{pack.version}", ([], [], []))[0].append(
            _abbreviate(pack.path)
        )
    for violation in violations:
        key = f"{violation.policy_pack}@v{violation.policy_pack_version}"
        groups.setdefault(key, ([], [], []))[1].append(violation)
    for remediation in remediations:
        key = f"{remediation.policy_pack}@v{remediation.policy_pack_version}"
        groups.setdefault(key, ([], [], []))[2].append(remediation)
    lines = ["Policies:"]
    for key in sorted(groups):
        paths, found, fixed = groups[key]
        mark = _MARK["fail" if run_failed(found) else "warn" if found else "pass"]
        local = f" (local: {'; '.join(sorted(paths))})" if paths else ""
        lines.append(f"    {mark} {key}{local}")
        counts: dict[str, int] = {}
        for r in fixed:
            counts[r.policy_name] = counts.get(r.policy_name, 0) + 1
        for name in sorted(counts):
            plural = "resource" if counts[name] == 1 else "resources"
            lines.append(f"        - [remediate]  {name}  ({counts[name]} {plural})")
        ordered = sorted(
            found,
            key=lambda v: (
                _LEVEL_RANK.get(v.enforcement_level, 99),
                _SEVERITY_RANK.get(v.severity, 99),
                v.policy_name,
                v.urn,
            ),
        )
        for v in ordered:
            heading, _, message = violation_text(v).partition("\n")
            lines.append(f"        - {heading}")
            lines.append("          " + message.replace("\n", "\n          "))
    lines.append("")
    return "\n".join(lines) + "\n"

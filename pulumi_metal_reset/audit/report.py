"""The audit's output: a table for people, a JSON list for machines (one object per finding)."""

from __future__ import annotations

import json

from pulumi_metal_reset.audit.findings import Report

__all__ = ["as_json", "as_table"]

_HEADER = ("STACK", "RESOURCE", "FINDING", "DETAIL")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def as_table(report: Report) -> str:
    scope = (
        f"{_plural(report.tokens, 'PasswordResetToken resource')} in "
        f"{_plural(report.stacks, 'stack')}"
    )
    if not report.findings:
        return f"No findings on {scope}.\n"
    # Same-named stacks of two organizations, or two exports of one stack, differ by file only.
    several = len({f.source for f in report.findings}) > 1
    header = ("FILE", *_HEADER) if several else _HEADER
    rows = [header] + [
        (
            *((f.source,) if several else ()),
            f"{f.project}/{f.stack}",
            f.urn.rsplit("::", 1)[-1],
            f.kind,
            f.message,
        )
        for f in report.findings
    ]
    fixed = len(header) - 1  # every column but the last, free-length detail
    widths = [max(len(row[i]) for row in rows) for i in range(fixed)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row[:fixed], widths, strict=True))
        + "  "
        + row[fixed]
        for row in rows
    ]
    flagged = len({(f.source, f.urn) for f in report.findings})  # as `tokens` counts them
    lines.append("")
    lines.append(f"{_plural(len(report.findings), 'finding')} on {flagged} of {scope}.")
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> str:
    return json.dumps([f.to_json() for f in report.findings], indent=2) + "\n"

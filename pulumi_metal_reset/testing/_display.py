"""A run's steps, diagnostics, outputs and summary as text, the way the CLI prints them.

The Diagnostics, Outputs and Resources sections follow ``pkg/backend/display/progress.go``
(``printDiagnostics``, ``printOutputs``) and ``diff.go`` (``renderSummaryEvent``); the ``--diff``
rendering follows ``ShowDiffEvents``. The list of steps at the top is a compact, deterministic form
of the CLI's progress table (one line per changed resource with its ``[diff: ...]``), not a copy of
it; the duration line is left out so the text is the same on every run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._diff_display import (
    RAW_PREFIX,
    Printer,
    indentation,
    outputs_text,
    print_object,
    print_old_new,
)
from ._propdiff import format_short_diff
from ._records import Diagnostic, Step
from ._urns import ROOT_STACK_TYPE, urn_name, urn_type

HEADERS = {
    ("preview", True): "Previewing update",
    ("up", False): "Updating",
    ("destroy", False): "Destroying",
    ("destroy", True): "Previewing destroy",
    ("refresh", False): "Refreshing",
    ("refresh", True): "Previewing refresh",
    ("import", False): "Importing",
    ("import", True): "Previewing import",
}
#: The order the summary lists operations in (``deploy.StepOps``).
SUMMARY_OPS = ("create", "update", "delete", "replace", "import")
PAST = {
    "create": "created",
    "update": "updated",
    "delete": "deleted",
    "replace": "replaced",
    "import": "imported",
}


def header(kind: str, stack: str, dry_run: bool) -> str:
    """``<action label> (<stack>):`` as the diy backend prints it."""
    return f"{HEADERS.get((kind, dry_run), 'Updating')} ({stack}):"


def step_rows(steps: Sequence[Step]) -> list[str]:
    """One line per step that is not a plain same: prefix, type, name, op, diff, failure."""
    rows = []
    for step in steps:
        if step.op in ("same", "refresh") and not step.error and "~protect" not in step.diff_marks:
            continue
        line = f"    {RAW_PREFIX.get(step.op, '  ')} {step.type}  {step.name}  {step.op}"
        if step.diff_marks:
            line += f"  [diff: {format_short_diff(step.diff_marks)}]"
        if step.error:
            line += "  **failed**"
        rows.append(line)
    return rows


def diagnostics_text(diagnostics: Sequence[Diagnostic], stack_urn: str) -> str:
    """``printDiagnostics``: grouped by resource (``<type> (<name>):``), each message indented,
    messages tied to no resource under the stack."""
    groups: dict[str, list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        if diagnostic.severity == "debug":
            continue
        groups.setdefault(diagnostic.urn or stack_urn, []).append(diagnostic)
    if not groups:
        return ""
    lines = ["Diagnostics:"]
    for urn, entries in groups.items():
        lines.append(f"  {urn_type(urn)} ({urn_name(urn)}):")
        for entry in entries:
            text = f"{entry.severity}: {entry.message}".rstrip()
            lines += ["    " + line.rstrip() for line in text.splitlines()]
        lines.append("")
    return "\n".join(lines)


def summary_text(steps: Sequence[Step], dry_run: bool, errored: int) -> str:
    """``renderSummaryEvent``: counts per op, changes and unchanged, errored resources."""
    counts: dict[str, int] = {}
    for step in steps:
        if step.op == "refresh" or step.failed:
            continue
        counts[step.op] = counts.get(step.op, 0) + 1
    lines = ["Resources:"]
    kinds = 0
    changes = 0
    for op in SUMMARY_OPS:
        if counts.get(op):
            kinds += 1
            changes += counts[op]
            verb = f"to {op}" if dry_run else PAST[op]
            lines.append(f"    {RAW_PREFIX[op]}{counts[op]} {verb}")
    pieces = []
    if kinds >= 2:
        pieces.append(f"{changes} change{'s' if changes != 1 else ''}")
    if counts.get("same"):
        pieces.append(f"{counts['same']} unchanged")
    if pieces:
        lines.append("    " + ". ".join(pieces))
    if errored:
        lines.append(f"    {errored} errored")
    return "\n".join(lines)


def stack_outputs_text(old: Mapping[str, Any] | None, new: Mapping[str, Any], dry_run: bool) -> str:
    """``printOutputs``: the stack's outputs (a preview shows only what it changes)."""
    return outputs_text(old, new, {}, indent=1, op="same", planning=dry_run, show_sames=not dry_run)


def _indent_of(step: Step, shown: Mapping[str, Step]) -> int:
    """``getIndent``: one level per shown ancestor (the stack always counts)."""
    indent = 0
    parent = step.new.parent if step.new is not None else (step.old.parent if step.old else "")
    while parent and parent in shown:
        ancestor = shown[parent]
        if urn_type(parent) == ROOT_STACK_TYPE or ancestor.op != "same":
            indent += 1
        nxt = ancestor.new or ancestor.old
        parent = nxt.parent if nxt is not None else ""
    return indent


def diff_text(
    steps: Sequence[Step],
    dry_run: bool,
    stack_outputs: tuple[Mapping[str, Any] | None, Mapping[str, Any]] | None = None,
) -> str:
    """The steps as ``pulumi preview --diff`` (or ``up --diff``) prints them: per shown step its
    header, ``[id=]``, ``[urn=]`` and the old and new value of every property; after an up, the
    outputs each step changed; at the end the stack's outputs."""
    out: list[str] = []
    seen: dict[str, Step] = {}
    for step in steps:
        if step.op == "refresh":
            continue
        seen[step.urn] = step
        is_root = urn_type(step.urn) == ROOT_STACK_TYPE
        if step.op == "same" and not is_root and "~protect" not in step.diff_marks:
            continue
        indent = _indent_of(step, seen)
        _step_header(out, step, indent)
        if step.op != "same":
            _step_details(out, step, indent, dry_run)
        if not dry_run and not is_root and step.new is not None and step.op != "delete":
            old_outputs = step.old.outputs if step.old is not None else None
            text = outputs_text(
                old_outputs,
                step.new.outputs,
                step.new.inputs,
                indent=indent + 1,
                op=step.op,
                planning=False,
                show_sames=False,
            )
            if text:
                out.append(indentation(indent + 1, step.op, False) + "--outputs:--\n" + text)
    if stack_outputs is not None:
        text = stack_outputs_text(*stack_outputs, dry_run)
        if text:
            out.append(indentation(1, "same", False) + "--outputs:--\n" + text)
    return "".join(out).rstrip("\n")


def _step_header(out: list[str], step: Step, indent: int) -> None:
    """``getResourcePropertiesSummary``: prefix, type, op, lock, ``[id=]``, ``[urn=]``."""
    old, new = step.old, step.new
    lock = ""
    if new is not None and not new.protect and old is not None and old.protect:
        lock = " 🔓"
    elif (new is not None and new.protect) or (old is not None and old.protect):
        lock = " 🔒"
    retain = ""
    if old is not None and old.retain_on_delete and step.op in ("delete", "replace"):
        retain = "[retain]"
    out.append(indentation(indent, step.op, False) + RAW_PREFIX.get(step.op, "  "))
    out.append(f"{step.type}: ({step.op}{retain}){lock}\n")
    simple = step.op if step.op in ("create", "delete") else "same"
    if old is not None and old.id:
        out.append(indentation(indent + 1, simple, False) + f"[id={old.id}]\n")
    out.append(indentation(indent + 1, simple, False) + f"[urn={step.urn}]\n")


def _step_details(out: list[str], step: Step, indent: int, dry_run: bool) -> None:
    """``getResourcePropertiesDetails`` before the step ran: new inputs for a create, old inputs
    for a delete, old against new inputs otherwise."""
    p = Printer(out, indent + 1, step.op, planning=dry_run)
    old, new = step.old, step.new
    if old is None and new is not None:
        print_object(p, new.inputs)
    elif new is None and old is not None:
        print_object(p, old.inputs)
    elif old is not None and new is not None:
        print_old_new(p, old.inputs, new.inputs, step.reported_keys or None)

"""What one run did, as a test inspects it: :class:`RunResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import _display
from ._records import ROOT_STACK_TYPE, Diagnostic, Kind, LogEntry, Step
from ._state import StackState
from ._wire import PropertyMap


@dataclass
class RunResult:
    """What one preview, up, refresh, import or destroy did.

    ``error`` holds the error diagnostics the CLI would print, in order, each in the CLI's words
    (the closing ``update failed`` / ``preview failed`` line is left out; :meth:`render` shows
    it). ``ok`` is False whenever the CLI would exit non-zero.
    """

    kind: Kind
    stack: str
    ok: bool
    error: str | None
    steps: list[Step]
    #: Stack outputs; secrets as :class:`Secret`, preview unknowns as :data:`UNKNOWN`.
    outputs: dict[str, Any]
    logs: list[LogEntry]
    #: ``(method, urn)`` of every call sent to the provider server, in order (Configure: urn "").
    provider_calls: list[tuple[str, str]]
    #: The program process's stdout and stderr.
    program_output: str = ""
    #: The provider process's stdout and stderr.
    provider_output: str = ""
    duration: float = 0.0
    dry_run: bool = False
    #: Every diagnostic (errors, warnings, infos) in the order the engine reported them.
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: The stack's state after the run (for a preview: the state it started from).
    state: StackState | None = field(default=None, repr=False)
    #: Stack outputs before and after, in wire form (for the Outputs section).
    old_outputs: PropertyMap | None = field(default=None, repr=False)
    new_outputs: PropertyMap = field(default_factory=dict, repr=False)
    #: The CLI closes its Diagnostics with "update failed" / "preview failed".
    failed_line: bool = field(default=False, repr=False)
    #: The CLI's own last error line (``--expect-no-changes``), outside the Diagnostics.
    command_error: str | None = None

    def step(self, name: str) -> Step:
        """The step for the resource named ``name`` (KeyError when there is none)."""
        for step in reversed(self.steps):
            if step.name == name and step.op != "refresh":
                return step
        raise KeyError(f"no step for a resource named {name!r}; steps: {self.ops()}")

    def ops(self) -> dict[str, str]:
        """Resource name -> operation, for every step except the root stack's and refreshes
        run before an update (``--refresh``)."""
        return {s.name: s.op for s in self.steps if s.type != ROOT_STACK_TYPE and s.op != "refresh"}

    def provider_methods(self) -> list[str]:
        """Just the method names of :attr:`provider_calls`."""
        return [method for method, _ in self.provider_calls]

    def _stack_urn(self) -> str:
        for step in self.steps:
            if step.type == ROOT_STACK_TYPE:
                return step.urn
        project = self.state.project if self.state is not None else "project"
        return f"urn:pulumi:{self.stack}::{project}::{ROOT_STACK_TYPE}::{project}-{self.stack}"

    def format_plan(self) -> str:
        """The header and one line per changed resource, as a compact progress table."""
        lines = [_display.header(self.kind, self.stack, self.dry_run)]
        return "\n".join(lines + _display.step_rows(self.steps))

    def format_outputs(self) -> str:
        """The stack outputs like the CLI's Outputs section, secrets as ``[secret]``."""
        text = _display.stack_outputs_text(self.old_outputs, self.new_outputs, self.dry_run)
        return "Outputs:\n" + text.rstrip("\n") if text else ""

    def render(self, *, diff: bool = False) -> str:
        """Steps, diagnostics, outputs and summary as one text, secrets masked.

        ``diff=True`` shows each step as ``pulumi preview --diff`` does: the old and new value
        of every property of every changed resource.
        """
        if diff:
            body = _display.diff_text(
                self.steps, self.dry_run, (self.old_outputs, self.new_outputs)
            )
            parts = [_display.header(self.kind, self.stack, self.dry_run), body]
        else:
            parts = [self.format_plan()]
        diagnostics = list(self.diagnostics)
        if self.failed_line:
            action = "preview" if self.dry_run else "update"
            diagnostics.append(Diagnostic("error", f"{action} failed", ""))
        text = _display.diagnostics_text(diagnostics, self._stack_urn())
        if text:
            parts.append(text.rstrip("\n"))
        if not diff:
            outputs = self.format_outputs()
            if outputs:
                parts.append(outputs)
        errored = len({d.urn for d in diagnostics if d.severity == "error"})
        parts.append(_display.summary_text(self.steps, self.dry_run, errored))
        if self.command_error:
            parts.append(f"error: {self.command_error}")
        return "\n\n".join(p for p in parts if p) + "\n"

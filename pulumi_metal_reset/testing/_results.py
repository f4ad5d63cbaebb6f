"""What one run did, as a test inspects it: :class:`RunResult`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import _display
from ._policy import PackInfo, PolicyRemediation, PolicyViolation, render_policies, run_failed
from ._policy.render import violation_text
from ._records import Diagnostic, Kind, LogEntry, Step
from ._state import StackState
from ._urns import ROOT_STACK_TYPE, root_stack_urn
from ._wire import PropertyMap, to_display

if TYPE_CHECKING:
    from ._deployment import Deployment
    from ._policy_run import PolicyOutcome

#: What the CLI counts as "changes" for ``--expect-no-changes`` (``engine.HasChanges``).
_NOT_CHANGES = frozenset({"same", "refresh"})


@dataclass
class RunResult:
    """What one preview, up, refresh, import or destroy did.

    ``error`` holds the error diagnostics the CLI would print, in order, each in the CLI's words
    (the closing ``update failed`` / ``preview failed`` line is left out; :meth:`render` shows
    it); when only a mandatory policy violation failed the run, it holds each such violation as
    the CLI's Policies section prints it. ``ok`` is False whenever the CLI would exit non-zero.
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
    #: What the CLI prints after the display (where ``--save-plan`` wrote the plan).
    command_info: str | None = field(default=None, repr=False)
    #: Policy packs run (``policy_packs=``), and what they reported, in the CLI's shape
    #: (messages through the CLI's filter of secret config values).
    policy_packs: list[PackInfo] = field(default_factory=list, repr=False)
    policy_violations: list[PolicyViolation] = field(default_factory=list)
    policy_remediations: list[PolicyRemediation] = field(default_factory=list, repr=False)

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
        return root_stack_urn(self.stack, project)

    def format_plan(self) -> str:
        """The header and one line per changed resource, as a compact progress table."""
        lines = [_display.header(self.kind, self.stack, self.dry_run)]
        return "\n".join(lines + _display.step_rows(self.steps))

    def format_outputs(self) -> str:
        """The stack outputs like the CLI's Outputs section, secrets as ``[secret]``."""
        text = _display.stack_outputs_text(self.old_outputs, self.new_outputs, self.dry_run)
        return "Outputs:\n" + text.rstrip("\n") if text else ""

    def format_policies(self) -> str:
        """The CLI's ``Policies:`` section ("" when no pack ran)."""
        if not self.policy_packs:
            return ""
        text = render_policies(self.policy_packs, self.policy_violations, self.policy_remediations)
        return text.rstrip("\n")

    def render(self, *, diff: bool = False) -> str:
        """Steps, policies, diagnostics, outputs and summary as one text, secrets masked.

        ``diff=True`` shows each step as ``pulumi preview --diff`` does: the old and new value
        of every property of every changed resource. Policy violations are left out of that
        view (the CLI prints them inline, as they arrive); the default view has the CLI's
        ``Policies:`` section, and after a mandatory violation no ``Resources:`` summary.
        """
        if diff:
            body = _display.diff_text(
                self.steps, self.dry_run, (self.old_outputs, self.new_outputs)
            )
            parts = [_display.header(self.kind, self.stack, self.dry_run), body]
        else:
            parts = [self.format_plan(), self.format_policies()]
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
        if diff or not (self.policy_packs and run_failed(self.policy_violations)):
            parts.append(_display.summary_text(self.steps, self.dry_run, errored))
        if self.command_error:
            parts.append(f"error: {self.command_error}")
        if self.command_info:
            parts.append(self.command_info)
        return "\n\n".join(p for p in parts if p) + "\n"


#: How a run stopped by the engine's timeout is reported (`_program.run_program`).
TIMED_OUT = "the program did not finish within"


def build_result(
    kind: Kind,
    d: Deployment,
    state: StackState,
    output: str,
    started: float,
    program_error: str | None,
    policies: PolicyOutcome | None = None,
) -> RunResult:
    """The result of a run, as the CLI would report it."""
    diagnostics = list(d.diagnostics)
    # An error the program logged fails nothing by itself (the Python exec script exits 0 after
    # a program that returns); when the program failed, the errors it logged are reported too.
    program_failed = program_error is not None
    errors = [
        x.message for x in diagnostics if x.severity == "error" and (program_failed or not x.logged)
    ]
    # A program that failed because its resource was invalid reports nothing more: the engine
    # bailed ("resource ... is invalid") and cancelled the program.
    invalid = set(policies.invalid) if policies is not None else set()
    refused = bool(invalid)
    if program_error is not None and program_error.startswith(TIMED_OUT):
        # Its cause: a provider call still running when the run was stopped reports only that
        # its channel closed.
        diagnostics.insert(0, Diagnostic("error", program_error, ""))
        errors.insert(0, program_error)
    elif (
        program_error is not None
        and not refused
        and not any(x.severity == "error" and not x.logged for x in diagnostics)
    ):
        # No error of the engine's explains it: the program's own failure does (an error it
        # logged before failing may be unrelated).
        diagnostics.append(Diagnostic("error", program_error, ""))
        errors.append(program_error)
    violations = list(policies.violations) if policies is not None else []
    error = "\n".join(errors) if errors else None
    if error is None and run_failed(violations):
        error = "\n".join(violation_text(v) for v in violations if v.mandatory)
    return RunResult(
        kind=kind,
        stack=state.stack,
        ok=error is None,
        error=error,
        # The step generator bails before any step for an invalid resource.
        steps=[s for s in d.steps if not (s.failed and s.urn in invalid)],
        outputs={k: to_display(v) for k, v in state.outputs.items()},
        logs=list(d.logs),
        provider_calls=list(d.provider.calls),
        program_output=output,
        provider_output=d.provider.output(),
        duration=time.monotonic() - started,
        dry_run=d.dry_run,
        diagnostics=diagnostics,
        state=state,
        old_outputs=dict(d.old_outputs) if d.old_outputs or d.old_resources else None,
        new_outputs=dict(state.outputs),
        failed_line=d.report_failed,
        policy_packs=list(policies.packs) if policies is not None else [],
        policy_violations=violations,
        policy_remediations=list(policies.remediations) if policies is not None else [],
    )


def expect_no_changes(result: RunResult, expected: bool, operation: str) -> RunResult:
    """``--expect-no-changes``: after the run, fail when it changed (or would change)
    anything (``backenderr.NoChangesExpectedError``)."""
    if not expected or not result.ok:
        return result
    if all(step.op in _NOT_CHANGES or step.failed for step in result.steps):
        return result
    message = f"no changes were expected for {operation} but changes were proposed"
    result.ok = False
    result.error = message
    result.command_error = message
    return result

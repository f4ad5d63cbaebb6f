"""One run of the test engine: the state in, the options, what happened, the state out.

This is the part of the engine's ``Deployment`` and step generator that outlives a single
registration: the old resources, the targets, the update plan being checked or recorded, and the
diagnostics. Registering a resource is in :mod:`._steps`, the deletes after the program in
:mod:`._deletes`, refresh and import in :mod:`._reads`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ._plan import PlanDiff, PlanViolation, ResourcePlan, check_diff, constrained_to
from ._provider import ProviderClient
from ._records import Dependent, Diagnostic, Goal, LogEntry, Step
from ._state import ResourceState, go_timestamp
from ._targets import UrnTargets
from ._turns import Turns
from ._urns import (
    ROOT_STACK_TYPE,
    default_provider_urn,
    make_urn,
    qualified_type,
    root_stack_urn,
    urn_type,
)
from ._wire import PropertyMap

#: Called after a resource's Check (and the plan check), where the engine calls each policy
#: pack's Remediate then Analyze (``continueStepsFromImport``), with the goal, the URN and the
#: checked inputs; returns the inputs to go on with (a remediation may change them). To report a
#: violation call ``d.error(urn, message)`` (or ``d.warning``); to stop the resource, as a
#: mandatory violation does, also raise ``StepFailed(urn)``.
ResourceHook = Callable[["Deployment", Goal, str, PropertyMap], PropertyMap]
#: Called once after the program and the deletes, when no error was reported, with the new
#: state: where the engine calls AnalyzeStack (``deploymentExecutor.Execute``).
StackHook = Callable[["Deployment", list[ResourceState]], None]


class StepFailed(Exception):
    """A step failed; its diagnostics have been recorded already."""


class ChainStopped(StepFailed):
    """A step ahead of this registration's own in its chain failed (a dependent's delete of a
    delete-before-replace): the executor stops the chain, so its own step never starts."""


class Stopped(Exception):
    """The run bailed or a step failed before this event's turn: the engine never reads it."""


@dataclass(frozen=True)
class Registered:
    """What RegisterResource answers: URN, ID, outputs, and whether they are unknown."""

    urn: str
    id: str
    outputs: PropertyMap
    unknown: bool = False


@dataclass
class RunOptions:
    """The CLI flags a run stands for."""

    dry_run: bool = False
    #: ``--target``; None targets every resource.
    targets: UrnTargets | None = None
    #: ``--replace``; None replaces none.
    replace_targets: UrnTargets | None = None
    refresh: bool = False
    #: ``up --plan``: the resource plans every registration and step is checked against.
    plan: dict[str, ResourcePlan] | None = None
    #: ``preview --save-plan`` / ``--strict``: record a plan while running.
    generate_plan: bool = False
    resource_hooks: list[ResourceHook] = field(default_factory=list)
    stack_hooks: list[StackHook] = field(default_factory=list)


class Deployment:
    """One preview, up, refresh or destroy of one stack."""

    def __init__(
        self,
        *,
        project: str,
        stack: str,
        old_resources: list[ResourceState],
        old_outputs: PropertyMap,
        provider: ProviderClient,
        options: RunOptions,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.project = project
        self.stack = stack
        self.options = options
        self.dry_run = options.dry_run
        self.old_resources = list(old_resources)
        self.olds = {r.urn: r for r in old_resources if not r.delete}
        self.old_outputs = dict(old_outputs)
        self.provider = provider
        self.lock = threading.RLock()
        self.steps: list[Step] = []
        self.diagnostics: list[Diagnostic] = []
        self.logs: list[LogEntry] = []
        #: New states of the resources registered this run, in registration order (a failed
        #: step keeps the old state): these are not deleted at the end.
        self.registered: dict[str, ResourceState] = {}
        #: Every registration of this run by URN (the first, when a URN came twice).
        self.goals: dict[str, Goal] = {}
        self.skipped_creates: set[str] = set()
        #: Old states replaced create-before-delete this run: deleted after the program.
        self.replaced: list[ResourceState] = []
        #: Dependents to delete before a resource they depend on is replaced delete-before-
        #: replace (chosen when that resource's steps are generated), and those of them whose
        #: delete has happened: replaced when registered again, else dropped from state.
        self.condemned: list[Dependent] = []
        self.deleted_early: list[ResourceState] = []
        self.new_plans: dict[str, ResourcePlan] = {}
        #: Some error was reported: the run fails.
        self.errored = False
        #: A step failed in a way that ends the deployment (the engine "bails").
        self.bailed = False
        #: Steps are generated one registration at a time, in arrival order.
        self.turns = Turns()
        #: The CLI closes with "update failed" / "preview failed" (step execution errors and
        #: errors the step generator reports and goes on; not its bails).
        self.report_failed = False
        self.stack_urn = root_stack_urn(stack, project)
        self.stack_outputs: PropertyMap | None = None
        self.root_urn = ""

    # -- helpers --------------------------------------------------------------------------------

    def now(self) -> str:
        """The engine's clock as it records ``created`` and ``modified``."""
        return go_timestamp(round(self.clock() * 1e9))

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN: parent types joined with ``$``, the root stack's type left out."""
        parent_type = qualified_type(parent) if parent else ""
        qualified = type_
        if parent_type and urn_type(parent) != ROOT_STACK_TYPE:
            qualified = f"{parent_type}${type_}"
        return make_urn(self.stack, self.project, qualified, name)

    def error(self, urn: str, message: str) -> None:
        """Record an error diagnostic (the run fails)."""
        with self.lock:
            self.diagnostics.append(Diagnostic("error", message, urn))
            self.errored = True

    def mark_failed(self) -> None:
        """The run ends with the CLI's "update failed" / "preview failed" line."""
        with self.lock:
            self.report_failed = True

    def rebase(self, resources: list[ResourceState]) -> None:
        """Use refreshed state as the old state (``rebuildBaseState``)."""
        self.old_resources = list(resources)
        self.olds = {r.urn: r for r in resources if not r.delete}

    def _in_old_state(self, urn: str) -> bool:
        """In the old state at all, pending deletion included: ``checkTargets`` reads
        ``allOlds``, not the ``olds`` lookup table that leaves pending deletes out."""
        return any(r.urn == urn for r in self.old_resources)

    def check_replace_targets(self) -> bool:
        """``checkTargets`` for ``--replace`` before the program runs: old state only."""
        replace = self.options.replace_targets
        literals = replace.literals if replace else ()
        missing = sorted(t for t in literals if not self._in_old_state(t))
        for target in missing:
            self._target_missing(target)
        return not missing

    def _target_missing(self, target: str) -> None:
        message = f"Target '{target}' could not be found in the stack."
        if "$" not in target:
            message += " Did you forget to escape $ in your shell?"
        self.error("", message)

    def warning(self, urn: str, message: str) -> None:
        """Record a warning diagnostic."""
        with self.lock:
            self.diagnostics.append(Diagnostic("warning", message, urn))

    def info(self, urn: str, message: str) -> None:
        """Record an info diagnostic."""
        with self.lock:
            self.diagnostics.append(Diagnostic("info", message, urn))

    def log(self, entry: LogEntry) -> None:
        """A message logged through the engine's ``Log``: errors and warnings are shown among
        the Diagnostics, and an error fails nothing (``hostServer.Log`` only reports it)."""
        with self.lock:
            self.logs.append(entry)
            if entry.severity in ("error", "warning"):
                self.diagnostics.append(
                    Diagnostic(entry.severity, entry.message, entry.urn, logged=True)
                )

    def add_step(self, step: Step) -> None:
        """Record a step (in the order steps complete)."""
        with self.lock:
            self.steps.append(step)

    def is_targeted(self, urn: str) -> bool:
        """``isIncludedInOperation`` without ``--target-dependents``; the root stack always is."""
        targets = self.options.targets
        return targets is None or urn in targets or urn_type(urn) == ROOT_STACK_TYPE

    def validate_ops(self, urn: str, ops: list[str]) -> None:
        """``validateSteps``: every step against the plan, and recorded into a new plan."""
        plan = self.options.plan
        for op in ops:
            if plan is not None:
                resource_plan = plan.get(urn)
                if resource_plan is None:
                    if not constrained_to(op, "same"):
                        raise PlanViolation(
                            f"{op} is not allowed by the plan: no steps were expected for this "
                            "resource"
                        )
                else:
                    if not resource_plan.ops:
                        raise PlanViolation(
                            f"{op} is not allowed by the plan: no more steps were expected for "
                            "this resource"
                        )
                    constraint = resource_plan.ops.pop(0)
                    if not constrained_to(op, constraint):
                        raise PlanViolation(
                            f"{op} is not allowed by the plan: this resource is constrained to "
                            f"{constraint}"
                        )
            if self.options.generate_plan:
                new_plan = self.new_plans.get(urn)
                if new_plan is not None:
                    new_plan.ops.append(op)
                elif op != "same":
                    raise PlanViolation(f"Expected a new resource plan for {urn}")

    def record_outputs(self, urn: str, outputs: PropertyMap) -> None:
        """RegisterResourceOutputs for a component (the stack's are kept for the end)."""
        with self.lock:
            if urn == self.stack_urn:
                self.stack_outputs = outputs
                return
            res = self.registered.get(urn)
            if res is None:
                return
            old = self.olds.get(urn)
            old_outputs = old.outputs if old is not None else {}
            if self._check_and_record_outputs(urn, old_outputs, outputs):
                res.outputs = outputs

    def _check_and_record_outputs(
        self, urn: str, old_outputs: PropertyMap, outputs: PropertyMap
    ) -> bool:
        """``executeRegisterResourceOutputs``: outputs against the plan, and into a new plan.
        False when they violate it: the error returns before the outputs are set, and the
        deployment bails."""
        plan = self.options.plan
        if plan is not None:
            resource_plan = plan.get(urn)
            problem = None
            if resource_plan is None or resource_plan.goal is None:
                problem = f"no plan for resource {urn}"
            else:
                try:
                    check_diff(old_outputs, outputs, resource_plan.goal.output_diff)
                except PlanViolation as violation:
                    problem = f"resource violates plan: {violation}"
            if problem is not None:
                self.error(urn, problem)
                self.bailed = True
                return False
        new_plan = self.new_plans.get(urn)
        if self.options.generate_plan and new_plan is not None and new_plan.goal is not None:
            new_plan.goal.output_diff = PlanDiff.between(old_outputs, outputs)
            new_plan.outputs = dict(outputs)
        return True

    def finish_stack_outputs(self) -> PropertyMap:
        """The stack outputs to save: the program's, merged over the old ones when the run
        failed (the engine cannot tell a missing output from a deleted one then)."""
        new = self.stack_outputs
        if new is None:
            return dict(self.old_outputs)
        outputs = dict(new)
        if self.errored:
            outputs = {**self.old_outputs, **new}
        with self.lock:
            if not self._check_and_record_outputs(self.stack_urn, self.old_outputs, outputs):
                return dict(self.old_outputs)  # the stack's SameStep kept the old ones
        return outputs

    def check_targets(self) -> bool:
        """``checkTargets``: every literal target must name a resource in the old state
        (pending deletes included) or the new one (before the program runs, as for a refresh,
        the old state alone)."""
        targets = self.options.targets
        if targets is None:
            return True
        missing = [
            t for t in sorted(targets.literals) if t not in self.goals and not self._in_old_state(t)
        ]
        for target in missing:
            self._target_missing(target)
        return not missing

    def check_plan_complete(self) -> None:
        """Every operation the plan expected must have happened. The default provider, which a
        plan the CLI wrote holds, is registered by the engine itself (the test engine keeps
        none), so its planned `create` or `same` counts as done."""
        plan = self.options.plan
        if plan is None or self.errored:
            return
        provider = default_provider_urn(self.stack, self.project)
        for urn, resource_plan in plan.items():
            if not resource_plan.ops or urn == provider:
                continue
            if resource_plan.ops == ["delete"] and urn not in {r.urn for r in self.old_resources}:
                continue
            self.error(urn, f"expected resource operations for {urn} but none were seen")

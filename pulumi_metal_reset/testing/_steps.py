"""One RegisterResource, from goal to applied step: the engine's step generator and executor.

Follows ``pkg/resource/deploy/step_generator.go`` (v3.259.0) in its order:
``generateResourceSteps`` (parent inheritance, targets) → ``continueStepsFromImport`` (Check with
old inputs after ``ignoreChanges``, or with none for a create or a ``--replace`` target; plan
generation and the plan check; the policy seam) → ``diff``/``diffResource`` (the provider's Diff,
the engine's own input diff on DIFF_UNKNOWN) → ``continueStepsFromDiff``
(``applyReplaceOnChanges``, protect, the re-check of a replacement with the program's inputs and no
olds, the program's ``deleteBeforeReplace`` over the provider's) → ``validateSteps`` (plan ops,
creates an untargeted resource depends on). The chosen step is applied by ``_apply``; the diff
itself, replace-on-changes and the ``[diff: ...]`` marks live in ``_diffs``.
"""

from __future__ import annotations

import os
from dataclasses import replace

from ._apply import apply_create, apply_update, fail, finish, mark_secret_outputs
from ._dependents import condemn_dependents, condemned
from ._deployment import ChainStopped, Deployment, Registered, StepFailed, Stopped
from ._diffs import apply_replace_on_changes, diff_resource, display_diff
from ._paths import process_ignore_changes
from ._plan import GoalPlan, PlanDiff, PlanViolation, ResourcePlan, check_goal, check_missing_plan
from ._propdiff import maps_equal
from ._provider import DIFF_NONE, DIFF_SOME, DiffAnswer, ProviderError
from ._records import Goal, Step
from ._state import ResourceState
from ._wire import PropertyMap, go_string

DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"


def register(d: Deployment, goal: Goal) -> Registered:
    """Generate and apply the step(s) for one registration; StepFailed when it failed, Stopped
    when the run had already stopped when its turn came (see _turns.py)."""
    with d.turns.turn():
        if d.bailed:
            raise Stopped(goal.name)
        try:
            return _register(d, goal)
        except StepFailed:
            with d.lock:
                d.bailed = True
            raise


def _register(d: Deployment, goal: Goal) -> Registered:
    urn = d.make_urn(goal.parent, goal.type, goal.name)
    with d.lock:
        if urn in d.goals:
            d.error(urn, f"Duplicate resource URN '{urn}'; try giving it a unique name")
            raise StepFailed(urn)
        parent = d.goals.get(goal.parent)
        if parent is not None:  # inheritFromParent: protect and retainOnDelete
            if goal.protect is None:
                goal.protect = parent.protect
            if goal.retain_on_delete is None:
                goal.retain_on_delete = parent.retain_on_delete
        d.goals[urn] = goal
    old = d.olds.get(urn)
    new = ResourceState(
        urn=urn,
        type=goal.type,
        custom=goal.custom,
        parent=goal.parent,
        inputs=dict(goal.properties),
        # generateSteps: the new state starts from the old one's timestamps
        created=old.created if old is not None else "",
        modified=old.modified if old is not None else "",
        protect=bool(goal.protect),
        retain_on_delete=bool(goal.retain_on_delete),
        dependencies=list(goal.dependencies),
        property_dependencies={k: list(v) for k, v in goal.property_dependencies.items()},
        additional_secret_outputs=list(goal.additional_secret_outputs),
        ignore_changes=list(goal.ignore_changes),
        replace_on_changes=list(goal.replace_on_changes),
        import_id=goal.import_id,
    )
    step = Step(urn, goal.type, goal.name, "create" if old is None else "same", old=old, new=new)
    try:
        return _generate_and_apply(d, goal, urn, old, new, step)
    except StepFailed as failed:
        with d.lock:
            if old is not None and urn not in d.registered:
                d.registered[urn] = old  # a failed resource keeps its old state
        if not isinstance(failed, ChainStopped):  # else its own step never started
            step.error, step.failed = _last_error(d, urn), True
            d.add_step(step)
        raise


def _last_error(d: Deployment, urn: str) -> str | None:
    with d.lock:
        for diagnostic in reversed(d.diagnostics):
            if diagnostic.urn == urn and diagnostic.severity == "error":
                return diagnostic.message
    return None


def _check(
    d: Deployment, goal: Goal, urn: str, olds: PropertyMap, news: PropertyMap, seed: bytes
) -> PropertyMap:
    """Check, with failures printed as ``issueCheckFailures`` prints them (the values from the
    goal's inputs as the program sent them, secrets included)."""
    try:
        answer = d.provider.check(urn, olds, news, seed)
    except ProviderError as exc:
        raise fail(d, urn, str(exc)) from None
    if answer.failures:
        for prop, reason in answer.failures:
            if prop:
                value = go_string(goal.properties.get(prop))
                message = (
                    f"{goal.type} resource '{goal.name}': property {prop} value {value} "
                    f"has a problem: {reason}"
                )
            else:
                message = f"{goal.type} resource '{goal.name}' has a problem: {reason}"
            d.error(urn, message)
        raise StepFailed(urn)
    return answer.inputs


def _generate_and_apply(
    d: Deployment, goal: Goal, urn: str, old: ResourceState | None, new: ResourceState, step: Step
) -> Registered:
    custom = goal.custom
    if custom and not goal.type.startswith(DYNAMIC_TYPE_PREFIX):
        raise fail(
            d,
            urn,
            f"the test engine runs only Python dynamic providers, not {goal.type!r} resources",
        )
    if goal.import_id:
        raise fail(d, urn, "the test engine does not support the `import` resource option")
    if old is None and any(alias in d.olds for alias in goal.alias_urns):
        raise fail(
            d,
            urn,
            "the test engine does not model the `aliases` resource option, so it cannot show "
            "this rename as the CLI would (a same, not a create and a delete); test the rename "
            "with the Pulumi CLI",
        )
    targeted = d.is_targeted(urn)
    replacing = d.options.replace_targets
    targeted_replace = replacing is not None and urn in replacing
    # Deleted earlier in this run before a resource it depends on was replaced: "recreating".
    recreating = condemned(d, urn) if old is not None else None
    fresh = targeted_replace or old is None or recreating is not None  # checked with no olds
    plan = d.options.plan
    resource_plan = plan.get(urn) if plan is not None else None
    seed = (
        resource_plan.seed if resource_plan is not None and resource_plan.seed else os.urandom(32)
    )

    inputs = dict(new.inputs)
    if old is not None:
        inputs, invalid = process_ignore_changes(inputs, old.inputs, goal.ignore_changes)
        if invalid:
            paths = ", ".join(invalid)
            d.info(
                urn, f'cannot ignore changes in added or removed elements of the path: "{paths}"'
            )
    if custom:
        if not targeted:
            inputs = dict(old.inputs) if old is not None else {}
        elif fresh or old is None:
            inputs = _check(d, goal, urn, {}, dict(goal.properties), seed)
        else:
            inputs = _check(d, goal, urn, old.inputs, inputs, seed)
    new.inputs = inputs

    plan_old_inputs = old.inputs if old is not None else None
    if d.options.generate_plan:
        if fresh:
            plan_old_inputs = None
        planned = GoalPlan.of(PlanDiff.between(plan_old_inputs, inputs), goal)
        with d.lock:
            earlier = d.new_plans.get(urn) if recreating is not None else None
            if earlier is not None:  # its delete's op is in it already
                earlier.goal, earlier.seed = planned, seed
            else:
                d.new_plans[urn] = ResourcePlan(goal=planned, seed=seed)
    if plan is not None:
        try:
            if resource_plan is None:
                if old is not None:
                    check_missing_plan(old, inputs, goal)
            else:
                check_goal(resource_plan, plan_old_inputs, inputs, goal)
        except PlanViolation as violation:
            raise fail(d, urn, f"resource {urn} violates plan: {violation}") from None

    # The seam for policy packs (the engine's Remediate then Analyze, on the checked inputs).
    for hook in d.options.resource_hooks:
        inputs = hook(d, goal, urn, inputs)
        new.inputs = inputs

    if old is not None and recreating is not None:  # a replacement, with no Diff
        step.op = "replace"
        step.diffs, step.diff_marks = display_diff(old, new, inputs, [])
        _validate(d, urn, ["replace", "create-replacement"], new)
        return apply_create(d, goal, urn, old, new, step, delete_first=True, recreating=True)
    if old is None:
        if not targeted:  # a skipped create: a same step, nothing in state, outputs unknown
            with d.lock:
                d.skipped_creates.add(urn)
            _validate(d, urn, ["same"], new, skipped=True)
            step.op = "same"
            mark_secret_outputs(d, new)  # the executor's pass over every step's new state
            d.add_step(step)
            return Registered(urn, "", {}, unknown=True)
        step.op = "create"
        _validate(d, urn, ["create"], new)
        return apply_create(d, goal, urn, None, new, step, delete_first=False)
    if not targeted:  # an untargeted same: the old state, unchanged
        kept = replace(old)
        step.op, step.new = "same", kept
        _validate(d, urn, ["same"], kept)
        return finish(d, urn, kept, step)

    answer = _diff(d, goal, urn, old, inputs, targeted_replace)
    changes, keys = answer.changes, list(answer.changed_keys)
    replace_keys, detailed_replace = apply_replace_on_changes(answer, goal.replace_on_changes)
    step.reported_keys = keys
    detailed = bool(answer.detailed_paths)
    if changes != DIFF_SOME and not old.pending_replacement:
        step.op = "same"
        # `getDiffInfo`: a same step never prints a property diff, only a protect change.
        step.diffs, step.diff_marks = [], ["~protect"] if old.protect != new.protect else []
        _validate(d, urn, ["same"], new)
        new.id, new.outputs = old.id, dict(old.outputs)
        return finish(d, urn, new, step)
    step.diffs, step.diff_marks = display_diff(old, new, inputs, keys, detailed=detailed)
    if not replace_keys and not detailed_replace and not old.pending_replacement:
        step.op = "update"
        _validate(d, urn, ["update"], new)
        return apply_update(d, goal, urn, old, new, step)

    step.op = "replace"
    if new.protect and old.protect:
        message = (
            f'unable to replace resource "{urn}"\nas it is currently marked for protection. To '
            "unprotect the resource, remove the `protect` flag from the resource in your Pulumi "
            "program and run `pulumi up`"
        )
        d.error(urn, message)
        if not d.dry_run:
            raise StepFailed(urn)
        d.mark_failed()  # a preview reports it and goes on
        step.error = message
    if custom and not targeted_replace:
        # "we need to recompute the default values": the program's inputs, no olds.
        new.inputs = _check(d, goal, urn, {}, dict(goal.properties), seed)
        step.diffs, step.diff_marks = display_diff(old, new, new.inputs, keys, detailed=detailed)
    provider_dbr = answer.delete_before_replace
    dbr = provider_dbr if goal.delete_before_replace is None else goal.delete_before_replace
    dependents = condemn_dependents(d, urn, old) if dbr else []
    if dbr:
        ops = ([] if old.pending_replacement else ["delete-replaced"]) + [
            "replace",
            "create-replacement",
        ]
    else:
        ops = ["create-replacement", "replace"]
    _validate(d, urn, ops, new)
    return apply_create(d, goal, urn, old, new, step, delete_first=dbr, dependents=dependents)


def _diff(
    d: Deployment,
    goal: Goal,
    urn: str,
    old: ResourceState,
    inputs: PropertyMap,
    targeted_replace: bool,
) -> DiffAnswer:
    """``sg.diff`` + ``diffResource``: changes, replace keys, provider's DBR, changed keys and,
    from the engine's own diff, detailed-diff paths."""
    if targeted_replace:
        return DiffAnswer(DIFF_SOME, ["id"], False, [])
    if not goal.custom:
        return DiffAnswer(DIFF_NONE if maps_equal(old.inputs, inputs) else DIFF_SOME, [], False, [])
    try:
        answer = diff_resource(d.provider, old, inputs, goal.ignore_changes)
    except ProviderError as exc:
        raise fail(d, urn, str(exc)) from None
    if answer.changes not in (DIFF_NONE, DIFF_SOME):
        raise fail(d, urn, f"unrecognized diff state for {urn}: {answer.changes}")
    return answer


def _validate(
    d: Deployment, urn: str, ops: list[str], new: ResourceState, *, skipped: bool = False
) -> None:
    """``validateSteps``: plan constraints and creates this step would need but targets skip.
    The last of step generation: once they pass, the next registration's turn begins."""
    try:
        with d.lock:
            d.validate_ops(urn, ops)
    except PlanViolation as violation:
        raise fail(d, urn, str(violation)) from None
    if skipped or (d.options.targets is None and d.options.replace_targets is None):
        d.turns.done()
        return
    for dependency in new.all_dependencies():
        if dependency in d.skipped_creates:
            d.error(
                urn,
                f"Resource '{urn}' depends on '{dependency}' which was was not specified in "
                "--target list.",
            )
            with d.lock:
                d.skipped_creates.discard(dependency)
            if not d.dry_run:
                raise StepFailed(urn)
            d.mark_failed()
    d.turns.done()

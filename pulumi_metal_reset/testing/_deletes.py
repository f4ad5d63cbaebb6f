"""The deletes after the program: ``GenerateDeletes`` and ``DeleteStep.Apply``.

Resources the program no longer registers, old halves of create-before-delete replacements and
deletes left pending by an earlier run, in reverse state order; protect, retainOnDelete, targets
and the update plan as the engine applies them (pulumi/pulumi v3.259.0,
``pkg/resource/deploy/step_generator.go`` and ``step.go``).
"""

from __future__ import annotations

from dataclasses import replace

from ._deployment import Deployment
from ._plan import PlanViolation, ResourcePlan
from ._provider import ProviderError
from ._records import Step
from ._state import ResourceState
from ._wire import to_display


def _delete_allowed(d: Deployment) -> set[str] | None:
    """With targets, only targets and their transitive dependents may be deleted."""
    targets = d.options.targets
    if targets is None:
        return None
    allowed = {res.urn for res in d.old_resources if res.urn in targets}
    changed = True
    while changed:
        changed = False
        for res in d.old_resources:
            if res.urn not in allowed and set(res.all_dependencies()) & allowed:
                allowed.add(res.urn)
                changed = True
    return allowed


def delete_one(d: Deployment, res: ResourceState, *, replacing: bool) -> str | None:
    """``DeleteStep.Apply``: protect, preview, retainOnDelete, then the provider's Delete.
    Returns the error (also recorded as a diagnostic) or None."""
    message = None
    if not replacing and res.protect:
        message = (
            f'resource "{res.urn}" cannot be deleted\nbecause it is protected. To unprotect '
            "the resource, either remove the `protect` flag from the resource in your Pulumi "
            "program and run `pulumi up`, or use the command:\n"
            f"`pulumi state unprotect '{res.urn}'`"
        )
    elif not (d.dry_run or res.retain_on_delete or not res.custom or res.pending_replacement):
        try:
            d.provider.delete(res)
        except ProviderError as exc:
            message = str(exc)
    if message is not None:
        d.error(res.urn, message)
        d.mark_failed()
    return message


def generate_deletes(d: Deployment, program_ok: bool) -> list[ResourceState]:
    """Delete what the program no longer registers and what was replaced; return the state.

    Nothing is deleted when the program failed (the engine bails before ``GenerateDeletes``):
    unregistered resources stay, replaced ones stay marked ``delete`` for the next run.
    Deletes run in reverse state order (the engine schedules them in reverse dependency
    order, which state order respects); when one fails, what it depends on is not deleted
    (``performPostSteps`` drops the errored step's dependencies from later batches).
    """
    allowed = _delete_allowed(d)
    kept: list[ResourceState] = []
    deletes: list[tuple[ResourceState, bool]] = []
    for res in d.old_resources:
        if any(res is gone for gone in d.deleted_early):
            # Deleted before a resource it depends on was replaced: replaced if registered
            # again, else its pending replacement is dropped (``RemovePendingReplaceStep``), or
            # kept when the run failed and never got that far.
            if not (res.delete or res.urn in d.registered or program_ok):
                kept.append(res)
            continue
        if not res.delete and res.urn in d.registered:
            continue
        if allowed is not None and res.urn not in allowed:
            kept.append(res)  # untargeted: its old state is carried over
            continue
        # A resource already deleted by a delete-before-replace only leaves the state.
        deletes.append((res, res.delete or res.pending_replacement))
    deletes += [(res, True) for res in d.replaced]

    def leftover(res: ResourceState, replacing: bool) -> ResourceState:
        return replace(res, delete=True) if replacing else res

    # In old-state order, so that a parent stays ahead of its children.
    order = {id(res): index for index, res in enumerate(d.old_resources)}
    pairs = [(res, res) for res in kept] + [(res, leftover(res, r)) for res, r in deletes]
    pairs.sort(key=lambda pair: order.get(id(pair[0]), len(order)))
    undone = [state for _, state in pairs]
    if not program_ok:
        return _state(d, undone)
    try:
        for res, replacing in deletes:
            if d.options.generate_plan and res.urn not in d.new_plans:
                d.new_plans[res.urn] = ResourcePlan()  # a delete: a plan with no goal
            d.validate_ops(res.urn, ["delete-replaced" if replacing else "delete"])
    except PlanViolation as violation:
        d.error("", str(violation))
        return _state(d, undone)
    targets = d.options.targets
    unspecified = [
        res for res, replacing in deletes if targets is not None and res.urn not in targets
    ]
    for res in unspecified:
        d.error(
            res.urn,
            f"Resource '{res.urn}' will be destroyed but was not specified in --target list."
            "\nEither include resource in --target list or pass --target-dependents to "
            "proceed.",
        )
    if unspecified and not d.dry_run:
        return _state(d, undone)
    if unspecified:
        d.mark_failed()  # a preview reports them all and goes on
    remaining: list[ResourceState] = []
    blocked: set[str] = set()
    for res, replacing in reversed(deletes):
        if res.urn in blocked:  # something that depends on it failed to go: it stays
            remaining.append(leftover(res, replacing))
            continue
        message = delete_one(d, res, replacing=replacing)
        if message is not None:
            blocked |= _dependencies_of(d, res)
        if not replacing:
            record_delete(d, res, message)
        if message is not None:
            remaining.append(leftover(res, replacing))
    return _state(d, kept + remaining[::-1])


def record_delete(d: Deployment, res: ResourceState, message: str | None) -> None:
    """The logical ``delete`` step for `res`, failed with `message` when there is one."""
    step = Step(res.urn, res.type, res.name, "delete", outputs=to_display(res.outputs), old=res)
    step.error, step.failed = message, message is not None
    d.add_step(step)


def _dependencies_of(d: Deployment, res: ResourceState) -> set[str]:
    """Everything ``res`` depends on, transitively, in the old state."""
    by_urn = {r.urn: r for r in d.old_resources}
    found: set[str] = set()
    pending = list(res.all_dependencies())
    while pending:
        urn = pending.pop()
        if urn in found:
            continue
        found.add(urn)
        if urn in by_urn:
            pending += by_urn[urn].all_dependencies()
    return found


def _state(d: Deployment, leftovers: list[ResourceState]) -> list[ResourceState]:
    """New state: registered resources in order, then what was kept or not yet deleted."""
    return [*d.registered.values(), *leftovers]

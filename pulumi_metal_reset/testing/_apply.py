"""The step executor's side of one registration: applying the step the generator chose.

``step.go``'s ``Apply`` for a same, an update and a create (or a replacement, with the delete
first when it is delete-before-replace), then what the executor does after every step: outputs
made secret (``additionalSecretOutputs`` and inputs that were secret) and the new state recorded.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._deletes import delete_one, record_delete
from ._deployment import ChainStopped, Deployment, Registered, StepFailed
from ._provider import ProviderError
from ._records import Dependent, Goal, Step
from ._state import ResourceState
from ._wire import is_secret, make_secret, to_display

__all__ = ["apply_create", "apply_update", "fail", "finish", "mark_secret_outputs"]


def fail(d: Deployment, urn: str, message: str) -> StepFailed:
    """Record `message` as the step's error; the StepFailed to raise."""
    d.error(urn, message)
    return StepFailed(urn)


def _delete_dependent(d: Deployment, urn: str, dependent: Dependent) -> None:
    """One dependent's ``DeleteReplacementStep`` (or, pending deletion already, its logical
    ``DeleteStep``, which refuses a protected resource). Nothing of the shared old state is
    changed in a preview, whose state is the one it read."""
    gone = dependent.state
    message = delete_one(d, gone, replacing=not gone.delete)
    if gone.delete:
        record_delete(d, gone, message)
    if message is not None:
        raise ChainStopped(urn)
    if not d.dry_run:
        gone.pending_replacement = not gone.delete
    with d.lock:
        d.deleted_early.append(gone)


#: The step executor's warning (``step_executor.go``), word for word.
_ID_WARNING = "The 'id' property cannot be made secret. See pulumi/pulumi#2717 for more details."


def mark_secret_outputs(d: Deployment, new: ResourceState) -> None:
    """The step executor, after every step: ``additionalSecretOutputs`` and inputs that were
    secret make the output of that name secret; ``id`` cannot be, and says so."""
    outputs = dict(new.outputs)
    for key in new.additional_secret_outputs:
        if key == "id":
            d.warning(new.urn, _ID_WARNING)
        elif key in outputs:
            outputs[key] = make_secret(outputs[key])
    for key, value in outputs.items():
        if not is_secret(value) and is_secret(new.inputs.get(key)):
            outputs[key] = make_secret(value)
    new.outputs = outputs


def finish(d: Deployment, urn: str, new: ResourceState, step: Step) -> Registered:
    mark_secret_outputs(d, new)
    step.outputs = to_display(new.outputs)
    step.new = new
    with d.lock:
        d.registered[urn] = new
        planned = d.new_plans.get(urn) if d.options.generate_plan else None
        if planned is not None:  # the step executor: a generated plan's advisory `state`
            planned.outputs = dict(new.outputs)
    d.add_step(step)
    return Registered(urn, new.id, new.outputs)


def apply_update(
    d: Deployment, goal: Goal, urn: str, old: ResourceState, new: ResourceState, step: Step
) -> Registered:
    new.id = old.id
    if d.dry_run or not goal.custom:
        # supportsPreview=False: the planned outputs are the new inputs.
        new.outputs = dict(new.inputs) if goal.custom else dict(old.outputs)
        return finish(d, urn, new, step)
    try:
        new.outputs = d.provider.update(old, new.inputs, goal.ignore_changes)
    except ProviderError as exc:
        d.mark_failed()
        raise fail(d, urn, str(exc)) from None
    new.modified = d.now()  # UpdateStep.Apply
    return finish(d, urn, new, step)


def apply_create(
    d: Deployment,
    goal: Goal,
    urn: str,
    old: ResourceState | None,
    new: ResourceState,
    step: Step,
    *,
    delete_first: bool,
    dependents: Sequence[Dependent] = (),
    recreating: bool = False,
) -> Registered:
    """``CreateStep.Apply``, after a delete-before-replace's deletes: the dependents that must
    go first (``DeleteReplacementStep``, pending replacement after it; one already pending
    deletion gets a ``DeleteStep`` of its own), then the old resource itself unless an earlier
    run deleted it. A dependent recreated (``recreating``) was deleted by that chain, not its
    own."""
    if old is not None and not delete_first:
        with d.lock:
            d.replaced.append(old)  # deleted after the program (create-before-delete)
    for dependent in dependents:  # their delete steps run in a preview too (no provider call)
        _delete_dependent(d, urn, dependent)
    if d.dry_run or not goal.custom:
        new.outputs = dict(new.inputs) if goal.custom else {}
        new.created = new.modified = d.now()  # CreateStep.Apply: components, previews too
        return finish(d, urn, new, step)
    if old is not None and delete_first and not old.pending_replacement and not recreating:
        message = delete_one(d, old, replacing=True)
        if message is not None:
            raise StepFailed(urn)
        old.pending_replacement = True  # kept in state until the create succeeds
    try:
        new.id, new.outputs = d.provider.create(urn, new.inputs)
        new.created = new.modified = d.now()
    except ProviderError as exc:
        if old is not None and not delete_first:
            with d.lock:
                d.replaced.remove(old)
        d.mark_failed()
        raise fail(d, urn, str(exc)) from None
    return finish(d, urn, new, step)

"""Reads: ``pulumi refresh`` (and ``--refresh`` on preview and up) and ``pulumi import``.

Refresh follows ``deploymentExecutor.refresh`` and ``RefreshStep.Apply`` (``step.go``, v3.259.0):
every resource in state (or every target) is read with its old inputs and old outputs; an empty ID
means it is gone; returned inputs replace the old ones, otherwise they are kept; secret-ness comes
back from the old state; the engine then asks the provider's Diff whether the refreshed state
differs from the program's view (refreshed inputs and outputs as "old", old inputs as "new"), which
decides between ``same`` and ``update``. Import follows ``ImportStep.Apply``: a Read with the ID
and no inputs and no state.
"""

from __future__ import annotations

from dataclasses import replace

from ._apply import mark_secret_outputs
from ._deployment import Deployment
from ._diffs import diff_resource
from ._propdiff import maps_equal
from ._provider import DIFF_SOME, ProviderError
from ._records import Step
from ._state import ResourceState
from ._urns import urn_name
from ._wire import to_display


def refresh_one(d: Deployment, old: ResourceState) -> tuple[ResourceState | None, Step]:
    """Read one resource; the refreshed state (None when gone) and its step (op: result op)."""
    step = Step(old.urn, old.type, old.name, "same", old=old, new=old)
    if not old.custom or old.pending_replacement:
        return old, step
    try:
        read = d.provider.read(old.urn, old.id, old.inputs, old.outputs)
    except ProviderError as exc:
        d.error(old.urn, str(exc))
        d.mark_failed()
        step.error, step.failed = str(exc), True
        return old, step
    if not read.id:
        step.op, step.new = "delete", None
        return None, step
    new = replace(old, id=read.id, outputs=read.outputs)
    if read.inputs is not None:
        new.inputs = read.inputs
    if not (maps_equal(new.inputs, old.inputs) and maps_equal(new.outputs, old.outputs)):
        new.modified = d.now()  # RefreshStep.Apply: the read found a change
    try:
        # diffResource with the refreshed state as "old" and the old inputs as "new".
        answer = diff_resource(d.provider, new, old.inputs, old.ignore_changes)
    except ProviderError as exc:
        d.error(old.urn, str(exc))
        d.mark_failed()
        step.error, step.failed = str(exc), True
        return old, step
    keys = list(answer.changed_keys)
    mark_secret_outputs(d, new)
    step.op = "update" if answer.changes == DIFF_SOME else "same"
    step.diffs = sorted(keys)
    step.diff_marks = [f"~{k}" for k in sorted(keys)]
    step.new = new
    step.outputs = to_display(new.outputs)
    return new, step


def refresh_targets_found(d: Deployment) -> bool:
    """``refresh`` checks its targets before it reads anything, against the old state alone;
    an empty state is refreshed (and checked) not at all."""
    return not d.old_resources or d.check_targets()


def refresh_state(d: Deployment, *, as_steps: bool) -> list[ResourceState]:
    """Refresh every resource in state (or every target); returns the rebuilt base state.

    ``as_steps`` records the steps under their result op (``pulumi refresh``); otherwise under
    ``refresh`` (``--refresh`` on preview and up, where the CLI does not count them).
    """
    targets = d.options.targets
    rebuilt: list[ResourceState] = []
    for res in d.old_resources:
        if targets is not None and res.urn not in targets:
            rebuilt.append(res)
            continue
        new, step = refresh_one(d, res)
        if not as_steps:
            step.op = "refresh"
        d.add_step(step)
        if new is not None:
            rebuilt.append(new)
    present = {r.urn for r in rebuilt}
    for res in rebuilt:  # rebuildBaseState: drop dependencies on resources that are gone
        res.dependencies = [u for u in res.dependencies if u in present]
        res.property_dependencies = {
            k: [u for u in v if u in present] for k, v in res.property_dependencies.items()
        }
        # undangleParentResources: a child of a resource that is gone gets
        # `availableParents[r.Parent]`, a map of the resources kept only, so no parent at all
        # (its comment's "the parent's parent" is not what the code does).
        if res.parent not in present:
            res.parent = ""
    return rebuilt


def import_one(d: Deployment, urn: str, type_: str, import_id: str) -> ResourceState | None:
    """``ImportStep.Apply`` for ``pulumi import <type> <name> <id>``: the imported state, or None
    when it failed (its diagnostic recorded)."""
    step = Step(urn, type_, urn_name(urn), "import")
    if urn in d.olds:
        step.error, step.failed = f"resource '{urn}' already exists", True
        d.error(urn, step.error)
        d.add_step(step)
        return None
    try:
        read = d.provider.read(urn, import_id, None, None)
    except ProviderError as exc:
        d.error(urn, str(exc))
        d.mark_failed()
        step.error, step.failed = str(exc), True
        d.add_step(step)
        return None
    message: str | None = None
    if not read.outputs and not read.id:
        message = f"resource '{import_id}' does not exist"
    elif read.inputs is None:
        package = type_.split(":")[0]
        message = (
            "provider does not support importing resources; please try updating the "
            f"'{package}' plugin"
        )
    if message is not None:
        d.error(urn, message)
        step.error, step.failed = message, True
        d.add_step(step)
        return None
    now = d.now()  # ImportStep.Apply sets both
    new = ResourceState(
        urn=urn,
        type=type_,
        custom=True,
        id=read.id or import_id,
        parent=d.stack_urn,
        inputs=read.inputs or {},
        outputs=read.outputs,
        import_id=import_id,
        created=now,
        modified=now,
    )
    step.new = new
    step.outputs = to_display(new.outputs)
    d.add_step(step)
    return new

"""A delete-before-replace of a resource others depend on: which of them must go first.

``calculateDependentReplacements`` and the delete-before-replace branch of
``continueStepsFromDiff`` (``step_generator.go``): the old resources after the replaced one in
state order that depend on it, directly or through one another (``DependingOn``: dependencies and
property dependencies, not parents), and that were not registered yet in this run. One of them is
replaced when an input it takes from a replaced resource, made unknown, makes its provider's Diff
say replace; it is then deleted before the root (``DeleteReplacementStep``, kept in state as
pending replacement) and, registered again, replaced without a Diff (``recreating``). A protected
one stops the run.
"""

from __future__ import annotations

from ._apply import fail
from ._deployment import Deployment
from ._diffs import apply_replace_on_changes, diff_resource
from ._plan import PlanViolation, ResourcePlan
from ._provider import ProviderError
from ._records import Dependent
from ._state import ResourceState
from ._wire import UNKNOWN_SENTINEL, PropertyMap

__all__ = ["condemn_dependents", "condemned"]


def condemn_dependents(d: Deployment, urn: str, root: ResourceState) -> list[Dependent]:
    """The dependents of `root` to delete before it, in the order to delete them (the reverse
    of state order); their plan steps are checked, and a protected one stops the run."""
    condemned = []
    for dependent in reversed(_to_replace(d, urn, root)):
        state = dependent.state
        if any(state is done.state for done in d.condemned):
            continue  # deleted already by another delete-before-replace
        if d.options.generate_plan and state.urn not in d.new_plans:
            d.new_plans[state.urn] = ResourcePlan()  # a delete: a plan with no goal
        if not state.delete and state.protect:
            raise fail(
                d,
                urn,
                f'unable to replace resource "{state.urn}" as part of replacing "{urn}" as it '
                "is currently marked for protection. To unprotect the resource, remove the "
                "`protect` flag from the resource in your Pulumi program and run `pulumi up`, "
                f"or use the command:\n`pulumi state unprotect '{state.urn}'`",
            )
        try:
            with d.lock:
                d.validate_ops(state.urn, ["delete" if state.delete else "delete-replaced"])
        except PlanViolation as violation:
            raise fail(d, urn, str(violation)) from None
        condemned.append(dependent)
    with d.lock:
        d.condemned.extend(condemned)
    return condemned


def _to_replace(d: Deployment, urn: str, root: ResourceState) -> list[Dependent]:
    """``calculateDependentReplacements``, in state order."""
    registered = set(d.goals) | {c.state.urn for c in d.condemned}
    found: list[Dependent] = []
    depending, replacing = {root.urn}, {root.urn}
    after = False
    for candidate in d.old_resources:
        if candidate is root:
            after = True
            continue
        if not after or candidate.urn in registered:
            continue
        if not _dependencies(candidate) & depending:
            continue
        depending.add(candidate.urn)
        keys = _replaced_by(d, urn, candidate, replacing)
        if keys is not None:
            found.append(Dependent(candidate, keys))
            replacing.add(candidate.urn)
    return found


def _dependencies(res: ResourceState) -> set[str]:
    """What ``DependingOn`` follows when it leaves children out: dependencies and property
    dependencies, not the parent."""
    found = set(res.dependencies)
    for urns in res.property_dependencies.values():
        found.update(urns)
    return found


def _replaced_by(
    d: Deployment, urn: str, res: ResourceState, replacing: set[str]
) -> list[str] | None:
    """``requiresReplacement``: the replace keys when `res` is replaced, else None. Only inputs
    taken from a replaced resource can change: they go to the provider's Diff as unknowns."""
    if not res.custom:
        return None
    inputs: PropertyMap = dict(res.inputs)
    changed = False
    for key in res.inputs:
        if set(res.property_dependencies.get(key, [])) & replacing:
            inputs[key] = UNKNOWN_SENTINEL
            changed = True
    if not changed:
        return None
    try:
        answer = diff_resource(d.provider, res, inputs, res.ignore_changes)
    except ProviderError as exc:
        raise fail(d, urn, str(exc)) from None
    keys, detailed = apply_replace_on_changes(answer, res.replace_on_changes)
    return keys if keys or detailed else None


def condemned(d: Deployment, urn: str) -> Dependent | None:
    """The dependent of this URN deleted earlier in this run, if any (``recreating``)."""
    with d.lock:
        return next((c for c in d.condemned if c.state.urn == urn and not c.state.delete), None)

"""Update plans: ``pulumi preview --save-plan``, ``pulumi up --plan`` and ``--strict``.

A transcription of ``pkg/resource/deploy/plan.go`` (v3.259.0): a preview records, per resource,
the checked inputs it expects to change (``GoalPlan.InputDiff``), the goal's options, the random
seed it gave Check and the steps it planned. An up under the plan re-checks every registration
against it (``checkGoal`` / ``checkDiff``), every step against the planned operations
(``ConstrainedTo`` in ``validateSteps``), the stack outputs (``checkOutputs``) and, at the end,
that every planned operation happened. Any difference fails with the engine's wording.

The file is written in the CLI's format (``apitype.DeploymentPlanV1``). The test engine has no
secrets provider, so secrets are written as ``pulumi preview --save-plan --show-secrets`` writes
them: ``{"<sig>": "<secret sig>", "plaintext": "<json>"}``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._export import manifest, serialize_value
from ._propdiff import deep_equals, diff_maps
from ._records import Goal
from ._state import ResourceState
from ._wire import SECRET_SIG, SIG_KEY, go_string, is_unknown, make_secret


class PlanViolation(Exception):
    """A registration, step or output that the plan does not allow (message: the engine's)."""


@dataclass
class PlanDiff:
    """The checked-input (or output) changes a plan expects (``deploy.PlanDiff``)."""

    adds: dict[str, Any] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)
    updates: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def between(cls, olds: Mapping[str, Any] | None, news: Mapping[str, Any]) -> PlanDiff:
        """``NewPlanDiff(olds.Diff(news))``."""
        diff = diff_maps(olds or {}, news)
        if diff is None:
            return cls()
        return cls(
            adds=dict(diff.adds),
            deletes=sorted(diff.deletes),
            updates={k: d.new for k, d in diff.updates.items()},
        )

    def make_error(
        self, key: str, actual_op: str, actual: Any = None, has_actual: bool = False
    ) -> str:
        """``PlanDiff.MakeError``: expected op, actual op, key, ``[expected!=actual]``."""
        if key in self.adds:
            expected_op, expected, has_expected = "+", self.adds[key], True
        elif key in self.updates:
            expected_op, expected, has_expected = "~", self.updates[key], True
        elif key in self.deletes:
            expected_op, expected, has_expected = "-", None, False
        else:
            expected_op, expected, has_expected = "=", None, False
        detail = ""
        if has_actual and has_expected:
            detail = f"[{go_string(expected)}!={go_string(actual)}]"
        elif has_actual:
            detail = f"[{go_string(actual)}]"
        elif has_expected:
            detail = f"[{go_string(expected)}]"
        return f"{expected_op}{actual_op}{key}{detail}"


@dataclass
class GoalPlan:
    """The goal a plan expects for one resource (``deploy.GoalPlan``)."""

    type: str
    name: str
    custom: bool
    input_diff: PlanDiff = field(default_factory=PlanDiff)
    output_diff: PlanDiff = field(default_factory=PlanDiff)
    parent: str = ""
    protect: bool = False
    dependencies: list[str] = field(default_factory=list)
    provider: str = ""
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    delete_before_replace: bool | None = None
    ignore_changes: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    id: str = ""

    @classmethod
    def of(cls, input_diff: PlanDiff, goal: Goal) -> GoalPlan:
        """``NewGoalPlan``."""
        return cls(
            type=goal.type,
            name=goal.name,
            custom=goal.custom,
            input_diff=input_diff,
            parent=goal.parent,
            protect=bool(goal.protect),
            dependencies=list(goal.dependencies),
            property_dependencies={k: list(v) for k, v in goal.property_dependencies.items()},
            delete_before_replace=goal.delete_before_replace,
            ignore_changes=list(goal.ignore_changes),
            additional_secret_outputs=list(goal.additional_secret_outputs),
            id=goal.import_id,
        )


@dataclass
class ResourcePlan:
    """Goal, planned operations (consumed as the up runs), outputs and Check seed."""

    goal: GoalPlan | None = None
    ops: list[str] = field(default_factory=list)
    outputs: dict[str, Any] | None = None
    seed: bytes = b""


def constrained_to(op: str, constraint: str) -> bool:
    """``ConstrainedTo``: a same may stand in for an update or replace, an update for a replace."""
    if constraint == "create":
        allowed = {"same", "create"}
    elif constraint == "update":
        allowed = {"same", "update"}
    elif constraint in ("replace", "create-replacement", "delete-replaced"):
        allowed = {"same", "update", constraint}
    else:
        allowed = {constraint}
    return op in allowed


def _string_set_diff(expected: list[str], actual: list[str]) -> str | None:
    """``diffStringSets``: ``added a, b; deleted c`` or None when the sets are equal."""
    adds = sorted(set(actual) - set(expected))
    deletes = sorted(set(expected) - set(actual))
    if not adds and not deletes:
        return None
    parts = []
    if adds:
        parts.append("added " + ", ".join(adds))
    if deletes:
        parts.append("deleted " + ", ".join(deletes))
    return "; ".join(parts)


def _property_key_diff(expected: list[str], actual: list[str]) -> str | None:
    """``diffPropertyKeys``, which sizes the program's list by the plan's (``make([]string,
    len(a))``): with fewer keys than planned the rest count as empty names (``added ; deleted
    serial``). With more, the CLI's engine panics (index out of range); the test engine reports
    the difference instead."""
    padded = actual + [""] * (len(expected) - len(actual))
    return _string_set_diff(expected, padded)


def check_diff(olds: Mapping[str, Any], news: Mapping[str, Any], plan: PlanDiff) -> None:
    """``checkDiff``: raise with ``properties changed: ...`` when news leave the planned diff."""
    changes: list[str] = []
    diff = diff_maps(olds, news, include_unknowns=True)
    adds = diff.adds if diff else {}
    deletes = diff.deletes if diff else {}
    updates = diff.updates if diff else {}
    sames = diff.sames if diff else {}
    for k, actual in adds.items():
        if k not in plan.adds or not deep_equals(plan.adds[k], actual, include_unknowns=True):
            changes.append(plan.make_error(k, "+", actual, True))
    for k in deletes:
        if k not in plan.deletes and not (k in plan.updates and is_unknown(plan.updates[k])):
            changes.append(plan.make_error(k, "-"))
    for k, value_diff in updates.items():
        actual = value_diff.new
        expected_map = plan.updates if k in plan.updates else plan.adds
        if k not in expected_map or not deep_equals(expected_map[k], actual, include_unknowns=True):
            changes.append(plan.make_error(k, "~", actual, True))
    for k, expected in plan.adds.items():
        if k in adds or k in updates:
            continue
        if k in news:
            if not deep_equals(expected, news[k], include_unknowns=True):
                changes.append(plan.make_error(k, "=", news[k], True))
        elif not is_unknown(expected):
            changes.append(plan.make_error(k, "-"))
    for k, expected in plan.updates.items():
        if k in updates:
            continue
        if k in adds:
            changes.append(plan.make_error(k, "+", adds[k], True))
        elif k in news:
            if not deep_equals(expected, news[k], include_unknowns=True):
                changes.append(plan.make_error(k, "=", news[k], True))
        elif not is_unknown(expected):
            changes.append(plan.make_error(k, "-"))
    for k in plan.deletes:
        if k in deletes:
            continue
        if k in adds:
            changes.append(plan.make_error(k, "+", adds[k], True))
        elif k in updates:
            changes.append(plan.make_error(k, "~", updates[k].new, True))
        elif k in sames:
            changes.append(plan.make_error(k, "=", sames[k], True))
    if changes:
        raise PlanViolation("properties changed: " + ", ".join(sorted(changes)))


def check_goal(
    plan: ResourcePlan, old_inputs: Mapping[str, Any] | None, inputs: Mapping[str, Any], goal: Goal
) -> None:
    """``ResourcePlan.checkGoal``, in the engine's order of checks."""
    expected = plan.goal
    if expected is None:
        raise PlanViolation("resource unexpectedly not deleted")
    if goal.custom != expected.custom:
        raise PlanViolation(
            f"resource kind changed (expected {'custom' if expected.custom else 'component'})"
        )
    if goal.parent != expected.parent:
        raise PlanViolation(f"parent changed (expected {expected.parent})")
    if bool(goal.protect) != expected.protect:
        raise PlanViolation(f"protect changed (expected {'true' if expected.protect else 'false'})")
    if goal.delete_before_replace != expected.delete_before_replace:
        wanted = expected.delete_before_replace
        text = "no value" if wanted is None else ("true" if wanted else "false")
        raise PlanViolation(f"deleteBeforeReplace changed (expected {text})")
    if goal.import_id != expected.id:
        raise PlanViolation(f"importID changed (expected {expected.id})")
    for what, planned, actual, differ in (
        ("ignoreChanges", expected.ignore_changes, goal.ignore_changes, _string_set_diff),
        (
            "additionalSecretOutputs",
            expected.additional_secret_outputs,
            goal.additional_secret_outputs,
            _property_key_diff,
        ),
        ("dependencies", expected.dependencies, goal.dependencies, _string_set_diff),
    ):
        message = differ(planned, actual)
        if message is not None:
            raise PlanViolation(f"{what} changed: {message}")
    check_diff(old_inputs or {}, inputs, expected.input_diff)
    for key, urns in expected.property_dependencies.items():
        if key in goal.property_dependencies:
            message = _string_set_diff(urns, goal.property_dependencies[key])
            if message is not None:
                raise PlanViolation(f"dependencies for {key} changed: {message}")


def check_missing_plan(old: ResourceState, inputs: Mapping[str, Any], goal: Goal) -> None:
    """``checkMissingPlan``: a resource the plan does not mention may not change."""
    stand_in = ResourcePlan(
        goal=GoalPlan(
            type=old.type,
            name=old.name,
            custom=old.custom,
            parent=old.parent,
            protect=old.protect,
            dependencies=list(old.dependencies),
            property_dependencies=dict(old.property_dependencies),
            additional_secret_outputs=list(old.additional_secret_outputs),
        )
    )
    # As in the engine, the stand-in has no deleteBeforeReplace and no ignoreChanges.
    check_goal(stand_in, old.inputs, inputs, goal)


# -- the file format (apitype.DeploymentPlanV1) --------------------------------------------------


def _deserialize_value(value: Any) -> Any:
    if isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG:
        if "plaintext" in value:
            return make_secret(_deserialize_value(json.loads(value["plaintext"])))
        if "value" in value:
            return make_secret(_deserialize_value(value["value"]))
        raise ValueError("the plan holds an encrypted secret; the test engine reads plaintext only")
    if isinstance(value, dict):
        return {k: _deserialize_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deserialize_value(v) for v in value]
    return value


def _diff_json(diff: PlanDiff) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if diff.adds:
        out["adds"] = serialize_value(diff.adds, show_secrets=True)
    if diff.deletes:
        out["deletes"] = list(diff.deletes)
    if diff.updates:
        out["updates"] = serialize_value(diff.updates, show_secrets=True)
    return out


def _diff_from_json(data: Mapping[str, Any] | None) -> PlanDiff:
    data = data or {}
    return PlanDiff(
        adds=_deserialize_value(dict(data.get("adds") or {})),
        deletes=list(data.get("deletes") or []),
        updates=_deserialize_value(dict(data.get("updates") or {})),
    )


def _goal_json(goal: GoalPlan) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": goal.type,
        "name": goal.name,
        "custom": goal.custom,
        "inputDiff": _diff_json(goal.input_diff),
        "outputDiff": _diff_json(goal.output_diff),
        "protect": goal.protect,
        "customTimeouts": {},
    }
    optional = {
        "parent": goal.parent,
        "dependencies": goal.dependencies,
        "provider": goal.provider,
        "propertyDependencies": goal.property_dependencies,
        "ignoreChanges": goal.ignore_changes,
        "additionalSecretOutputs": goal.additional_secret_outputs,
        "id": goal.id,
    }
    out.update({k: v for k, v in optional.items() if v})
    if goal.delete_before_replace is not None:
        out["deleteBeforeReplace"] = goal.delete_before_replace
    return out


def _goal_from_json(data: Mapping[str, Any]) -> GoalPlan:
    return GoalPlan(
        type=str(data["type"]),
        name=str(data["name"]),
        custom=bool(data.get("custom")),
        input_diff=_diff_from_json(data.get("inputDiff")),
        output_diff=_diff_from_json(data.get("outputDiff")),
        parent=str(data.get("parent") or ""),
        protect=bool(data.get("protect")),
        dependencies=list(data.get("dependencies") or []),
        provider=str(data.get("provider") or ""),
        property_dependencies=dict(data.get("propertyDependencies") or {}),
        delete_before_replace=data.get("deleteBeforeReplace"),
        ignore_changes=list(data.get("ignoreChanges") or []),
        additional_secret_outputs=list(data.get("additionalSecretOutputs") or []),
        id=str(data.get("id") or ""),
    )


def write_plan(path: Path, plans: Mapping[str, ResourcePlan], config: Mapping[str, Any]) -> None:
    """Write ``plans`` as ``pulumi preview --save-plan`` does (JSON, 4-space indent)."""
    resource_plans: dict[str, Any] = {}
    for urn, plan in sorted(plans.items()):
        entry: dict[str, Any] = {}
        if plan.goal is not None:
            entry["goal"] = _goal_json(plan.goal)
        if plan.ops:
            entry["steps"] = list(plan.ops)
        entry["state"] = (
            None if plan.outputs is None else serialize_value(plan.outputs, show_secrets=True)
        )
        if plan.seed:
            entry["seed"] = base64.b64encode(plan.seed).decode()
        resource_plans[urn] = entry
    document = {
        "manifest": manifest(),
        "config": dict(config),
        "resourcePlans": resource_plans,
    }
    Path(path).write_text(json.dumps(document, indent=4) + "\n", encoding="utf-8")


def read_plan(path: Path) -> dict[str, ResourcePlan]:
    """The resource plans of a plan file written by :func:`write_plan` (or the CLI with
    ``--show-secrets``)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    plans: dict[str, ResourcePlan] = {}
    for urn, entry in (data.get("resourcePlans") or {}).items():
        goal = entry.get("goal")
        state = entry.get("state")
        plans[urn] = ResourcePlan(
            goal=None if goal is None else _goal_from_json(goal),
            ops=list(entry.get("steps") or []),
            outputs=None if state is None else _deserialize_value(state),
            seed=base64.b64decode(entry.get("seed") or ""),
        )
    return plans

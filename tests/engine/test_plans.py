"""Update plans: ``preview --save-plan``, ``up --plan`` and ``up --strict``.

Pinned to ``pkg/resource/deploy/plan.go`` (``checkGoal``, ``checkDiff``, ``MakeError``,
``ConstrainedTo``), ``step_generator.go`` (``validateSteps``, the plan check in
``continueStepsFromImport``) and ``deployment_executor.go`` (operations the plan expected but
never saw), v3.259.0. What is real here is described in test_engine.py.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.wire import SECRET_KEY, SECRET_SIG

from .conftest import CounterProject

pytestmark = pytest.mark.engine

COUNTER = "pulumi-python:dynamic/counter:Counter"
URN_A = f"urn:pulumi:dev::counter::{COUNTER}::a"
URN_B = f"urn:pulumi:dev::counter::counter:index:Group${COUNTER}::b"


def test_saved_plan_is_the_clis_file_and_an_unchanged_up_passes(
    counter: CounterProject, tmp_path: Path
) -> None:
    """The plan records, per URN, the planned steps, the checked inputs to add and the Check
    seed; an up under it with the same program passes and creates what it planned."""
    plan = tmp_path / "plan.json"

    preview = counter.engine(with_b="false").preview(save_plan=plan)
    result = counter.engine(with_b="false").up(plan=plan)

    assert preview.ok, preview.error
    data = json.loads(plan.read_text())
    assert set(data) == {"manifest", "config", "resourcePlans"}
    entry = data["resourcePlans"][URN_A]
    assert entry["steps"] == ["create"]
    assert entry["goal"]["inputDiff"]["adds"]["label"] == "one"
    token = entry["goal"]["inputDiff"]["adds"]["token"]
    assert token[SECRET_KEY] == SECRET_SIG  # written as --show-secrets writes it
    assert len(base64.b64decode(entry["seed"])) == 32
    assert data["config"]["counter:token"] == {"secure": "test-engine:withheld"}
    assert result.ok, result.error
    assert result.kind == "up"
    assert result.ops() == {"a": "create"}
    assert counter.mutations() == [("create", "a")]


def test_an_input_the_plan_did_not_expect_violates_it(
    counter: CounterProject, tmp_path: Path
) -> None:
    """``checkDiff``: a checked input that differs from the planned one fails the registration
    with ``resource <urn> violates plan: properties changed: ++label[{one}!={two}]``; the up's
    preview stops there, so nothing is created."""
    plan = tmp_path / "plan.json"
    counter.engine(with_b="false").preview(save_plan=plan)

    result = counter.engine(with_b="false", label="two").up(plan=plan)

    assert not result.ok
    assert result.kind == "preview"
    assert result.error == (
        f"resource {URN_A} violates plan: properties changed: ++label[{{one}}!={{two}}]"
    )
    assert counter.mutations() == []


def test_an_operation_beyond_the_plan_violates_it(counter: CounterProject, tmp_path: Path) -> None:
    """``ConstrainedTo``: a planned ``same`` allows only a same; a forced replace is refused."""
    counter.engine(with_b="false").up()
    plan = tmp_path / "plan.json"
    counter.engine(with_b="false").preview(save_plan=plan)

    result = counter.engine(with_b="false").up(plan=plan, replace=[URN_A])

    assert not result.ok
    assert result.error == (
        "create-replacement is not allowed by the plan: this resource is constrained to same"
    )
    assert counter.mutations() == [("create", "a")]


def test_operations_the_plan_expected_must_happen(counter: CounterProject, tmp_path: Path) -> None:
    """``Execute``: a planned operation that never happened is an error naming the URN."""
    plan = tmp_path / "plan.json"
    counter.engine().preview(save_plan=plan)

    result = counter.engine(with_b="false").up(plan=plan)

    assert not result.ok
    assert result.error is not None
    assert f"expected resource operations for {URN_B} but none were seen" in result.error


def test_strict_up_passes_with_a_deterministic_check(counter: CounterProject) -> None:
    """``up --strict``: the preview and the update run under one plan."""
    result = counter.engine().up(strict=True)

    assert result.ok, result.error
    assert result.ops() == {"a": "create", "g": "create", "b": "create"}


def test_strict_up_fails_when_check_reads_the_clock(counter: CounterProject) -> None:
    """A Check whose answer changes between the preview and the update violates the plan (the
    seed the engine passes cannot help a provider that reads the clock); nothing is created."""
    result = counter.engine(stamp="true", with_b="false").up(strict=True)

    assert not result.ok
    assert result.kind == "up"
    assert result.error is not None
    assert result.error.startswith(
        f"resource {URN_A} violates plan: properties changed: ++stamp[{{"
    )
    assert counter.mutations() == []

"""Update plans hold an apply to its review, with the provider's clock moved by libfaketime.

`up(strict=True)` (`pulumi up --strict`) and `preview(save_plan=)` + `up(plan=)` (`--save-plan`,
`--plan`) record the checked inputs and compare them exactly at the update (`plan.go`
`checkGoal`). `check` is a pure function of the inputs and the slot on the UTC grid, so a run
inside one granule passes, and a slot boundary crossed between the review and the apply fails
with "violates plan" before any API call.

Real: the program, the dynamic-provider server (its clock moved by libfaketime), HTTP to the
emulator. Stood in for: the Pulumi CLI and Go engine (the test engine).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pulumi_metal_reset.emulator import Emulator
from pulumi_metal_reset.testing.faketime import faketime_env

from .conftest import TokenStack, copy_program

pytestmark = [pytest.mark.engine, pytest.mark.faketime]

#: A 30-day schedule created at noon on 2030-01-01 starts at that UTC midnight; its first
#: rotation falls due 30 days on.
BOUNDARY = "2030-01-31T00:00:00Z"
URN_ADMIN = "urn:pulumi:dev::infra::pulumi-python:dynamic/metal:PasswordResetToken::admin"


def clock(when: str) -> dict[str, str]:
    """The provider process's clock, starting at `when` (UTC) and running from there."""
    return faketime_env(f"@{when}")


@pytest.fixture(scope="module")
def created_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The state of the token created at noon on 2030-01-01 with a 30-day schedule, made once
    for the module (the state names no emulator: each test copies it and uses its own)."""
    root = tmp_path_factory.mktemp("created")
    with Emulator() as emulator:
        stack = TokenStack(
            dir=copy_program("review", root), state_dir=root / "state", emulator=emulator
        )
        first = stack.engine(clock("2030-01-01 12:00:00"), rotateEvery="30d").up()
        assert first.ok, first.error
        assert first.outputs["nextRotationAt"] == BOUNDARY
        assert stack.api_calls() == ["POST"]
    return stack.state_dir / "dev.json"


def created(review: TokenStack, state: Path) -> None:
    """Start `review` from the created token."""
    review.state_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(state, review.state_dir / "dev.json")


def test_a_strict_up_with_nothing_to_do_passes(review: TokenStack, created_state: Path) -> None:
    created(review, created_state)

    result = review.engine(clock("2030-01-02 09:00:00"), rotateEvery="30d").up(strict=True)

    assert result.ok, result.error
    assert set(result.ops().values()) == {"same"}
    assert review.api_calls() == []


def test_a_strict_up_applies_a_trigger_rotation(review: TokenStack, created_state: Path) -> None:
    created(review, created_state)

    result = review.engine(clock("2030-01-02 09:00:00"), rotateEvery="30d", ticket="SEC-2").up(
        strict=True
    )

    assert result.ok, result.error
    assert result.ops() == {"admin": "update"}
    assert review.api_calls() == ["DELETE"]
    assert result.outputs["rotationCount"] == 1


def test_a_strict_up_applies_a_due_rotation(review: TokenStack, created_state: Path) -> None:
    """At +31 days the rotation is due: the slot moves one period, to the old boundary."""
    created(review, created_state)

    result = review.engine(clock("2030-02-01 12:00:00"), rotateEvery="30d").up(strict=True)

    assert result.ok, result.error
    assert result.ops() == {"admin": "update"}
    assert review.api_calls() == ["DELETE"]
    assert result.outputs["rotationCount"] == 1
    assert result.outputs["nextRotationAt"] == "2030-03-02T00:00:00Z"
    state = review.engine().load_state().resource("admin")
    assert state.outputs["rotation_slot"] == BOUNDARY


def test_a_slot_boundary_between_review_and_apply_violates_the_plan(
    review: TokenStack, created_state: Path, tmp_path: Path
) -> None:
    """Reviewed a minute before the boundary (nothing due), applied just after it (due): the
    checked `rotation_slot` differs from the plan, so the up stops before any API call instead
    of rotating what nobody reviewed."""
    created(review, created_state)
    plan = tmp_path / "plan.json"

    reviewed = review.engine(clock("2030-01-30 23:59:00"), rotateEvery="30d").preview(
        save_plan=plan
    )
    applied = review.engine(clock("2030-01-31 00:00:30"), rotateEvery="30d").up(plan=plan)

    assert reviewed.ok, reviewed.error
    assert set(reviewed.ops().values()) == {"same"}
    assert not applied.ok
    assert applied.kind == "preview"  # `up --plan` stops in its own preview
    assert applied.error == (
        f"resource {URN_ADMIN} violates plan: properties changed: "
        "=~rotation_slot[{2030-01-31T00:00:00Z}]"
    )
    assert review.api_calls() == []
    assert review.engine().load_state().resource("admin").outputs["rotation_count"] == 0
    # The program never finished, so the stack's outputs are unchanged: no Outputs section.
    assert "Outputs:" not in applied.render()


def test_review_and_apply_inside_one_granule_pass(
    review: TokenStack, created_state: Path, tmp_path: Path
) -> None:
    """Both after the boundary, inside one UTC day: the plan holds and the due rotation runs."""
    created(review, created_state)
    plan = tmp_path / "plan.json"

    reviewed = review.engine(clock("2030-01-31 00:00:30"), rotateEvery="30d").preview(
        save_plan=plan
    )
    applied = review.engine(clock("2030-01-31 18:00:00"), rotateEvery="30d").up(plan=plan)

    assert reviewed.ok, reviewed.error
    assert reviewed.ops() == {"admin": "update"}
    assert applied.ok, applied.error
    assert applied.ops() == {"admin": "update"}
    assert review.api_calls() == ["DELETE"]
    assert applied.outputs["rotationCount"] == 1

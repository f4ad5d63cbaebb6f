"""`ignore_changes` cannot pause a rotation; the README says so, and this pins why.

The engine applies ignore_changes to the program's inputs before it calls `check`
(step_generator.go, processIgnoreChanges), and `check` derives `rotation_slot` from the clock
afterwards. Ignoring `rotate_every` keeps the recorded period, ignoring `rotation_slot` keeps
nothing (the program does not set it), so a due rotation still happens. See conftest for what is
real; libfaketime moves the provider's clock.
"""

from __future__ import annotations

import pytest

from pulumi_metal_reset.testing.faketime import faketime_env

from .conftest import StackFactory, assert_ok

pytestmark = pytest.mark.faketime


def test_a_due_rotation_happens_under_ignore_changes(stack_factory: StackFactory) -> None:
    stack = stack_factory("ignore-changes")
    assert_ok(stack.up())
    assert stack.api_calls() == ["POST"]

    stack.config["rotateEvery"] = "365d"  # ignored: the recorded P30D stays
    later = stack.up(faketime_env("+31d"))
    assert_ok(later)
    assert later.step("ignored").op == "update"
    assert later.outputs["rotateEvery"] == "P30D"
    assert later.outputs["rotationCount"] == 1
    assert stack.api_calls() == ["DELETE"]

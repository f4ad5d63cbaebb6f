"""`rotation_count` reaches programs as an int (issue 8 §8).

Protobuf's Struct carries every number as a double, so the wire can only say 1.0. The provider
hands the SDK ints, and the SDK gives programs an int because `PasswordResetToken` annotates
`rotation_count: Output[int]` (pulumi/runtime/rpc.py, translate_output_properties, which casts
a float to int for an int-typed output). A test here pins both ends. See conftest for what is real.
"""

from __future__ import annotations

from .conftest import StackFactory, assert_ok


def test_programs_see_rotation_count_as_an_int(stack_factory: StackFactory) -> None:
    stack = stack_factory("typed-count")
    created = stack.up()
    assert_ok(created)
    assert created.outputs["countType"] == "int"
    assert created.outputs["countRepr"] == "1"

    same = stack.up()
    assert_ok(same)
    assert same.ops() == {"counted": "same"}
    assert (same.outputs["countType"], same.outputs["countRepr"]) == ("int", "1")

    stack.config["ticket"] = "SEC-2"
    rotated = stack.up()
    assert_ok(rotated)
    assert rotated.ops() == {"counted": "update"}
    assert (rotated.outputs["countType"], rotated.outputs["countRepr"]) == ("int", "2")

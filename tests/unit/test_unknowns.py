"""The unknown-value sentinel: one name, one value, the same as Pulumi's."""

from __future__ import annotations

from pulumi_metal_reset.unknowns import UNKNOWN_SENTINEL, is_unknown


def test_unknown_sentinel_matches_pulumi() -> None:
    from pulumi.runtime import rpc

    assert rpc.UNKNOWN == UNKNOWN_SENTINEL


def test_is_unknown_looks_inside_maps_and_lists() -> None:
    assert is_unknown(UNKNOWN_SENTINEL)
    assert is_unknown({"a": "1", "b": UNKNOWN_SENTINEL})
    assert is_unknown(["x", [UNKNOWN_SENTINEL]])
    assert not is_unknown({"a": "1"})
    assert not is_unknown(None)
    assert not is_unknown(3.0)
    assert not is_unknown("04da6b54")


def test_the_package_spells_the_sentinel_once() -> None:
    """One name per thing: the value is written out in unknowns.py and nowhere else."""
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "pulumi_metal_reset"
    holders = [
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if UNKNOWN_SENTINEL in path.read_text(encoding="utf-8")
    ]
    # The test engine keeps its own copy on purpose: it stands in for Pulumi's engine and
    # imports no product module (tests/test_architecture.py). Nothing else may spell it.
    known_copies = {"testing/_wire.py"}
    assert "unknowns.py" in holders
    assert set(holders) <= {"unknowns.py"} | known_copies

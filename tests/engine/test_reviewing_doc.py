"""docs/reviewing.md holds exactly what the test engine prints today for each case.

The texts are regenerated (tests/engine/reviewing.py) and compared block by block, so the doc
cannot go stale: after a change that alters a preview, run `python -m tests.engine.reviewing
--write` and review the diff.
"""

from __future__ import annotations

import re

import pytest

from tests.engine import reviewing

pytestmark = [pytest.mark.engine, pytest.mark.faketime]


def test_every_case_has_a_block_and_a_heading() -> None:
    doc = reviewing.DOC.read_text(encoding="utf-8")
    assert list(reviewing.blocks(doc)) == list(reviewing.CASES)
    assert "produced by the test engine" in doc
    assert "not by the Pulumi CLI" in doc
    assert "that backend did not run here" in doc


def test_the_doc_shows_what_the_engine_prints_today() -> None:
    fresh = reviewing.generate()
    shown = reviewing.blocks(reviewing.DOC.read_text(encoding="utf-8"))

    stale = [name for name in reviewing.CASES if shown.get(name) != fresh[name]]

    assert stale == [], (
        f"docs/reviewing.md is stale for {stale}; run `python -m tests.engine.reviewing --write`"
    )
    # What each case is about is in its text (a regenerated block cannot silently lose it).
    assert 'rotation_slot    : "2030-01-01T00:00:00Z"' in fresh["create"]
    assert "[diff: ~rotation_triggers]" in fresh["trigger-rotation"]
    assert (
        '~ rotation_slot    : "2030-01-01T00:00:00Z" => "2030-01-31T00:00:00Z"'
        in fresh["due-rotation"]
    )
    assert "admin  update  [diff: ~email]" in fresh["email-change"]
    assert '~ rotate_every     : "P30D" => "P7D"' in fresh["period-change"]
    assert "- [mandatory] [severity: high]  max-rotation-age" in fresh["policy-violation"]
    assert re.search(r"admin +overdue +The scheduled rotation", fresh["audit-finding"])
    assert fresh["audit-finding"].endswith("(exit status 1)\n")


def test_the_readme_links_the_review_tooling_and_the_links_resolve() -> None:
    """Issue 11: the README links the policy pack, the audit and docs/reviewing.md."""
    root = reviewing.REPO
    readme = (root / "README.md").read_text(encoding="utf-8")
    tooling = readme.split("## Review tooling", 1)[1].split("\n## ", 1)[0]
    assert "](docs/reviewing.md)" in tooling
    assert "](policy/README.md)" in tooling
    assert "**`metal-reset audit`**" in tooling
    for source, text in ((root, readme), (root / "docs", reviewing.DOC.read_text())):
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (source / target).exists(), f"{target} (linked from {source})"

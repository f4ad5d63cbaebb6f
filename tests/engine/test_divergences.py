"""The four places where the first test engine differed from Pulumi's engine, pinned.

Each test names the engine function it mirrors (pulumi/pulumi v3.259.0,
``pkg/resource/deploy/step_generator.go``). Every one of them failed on the engine before the fix;
see ``docs/engine-fidelity.md`` for the ledger. What is real here is described in test_engine.py.
"""

from __future__ import annotations

import pytest

from .conftest import CounterProject

pytestmark = pytest.mark.engine

COUNTER = "pulumi-python:dynamic/counter:Counter"
URN_A = f"urn:pulumi:dev::counter::{COUNTER}::a"


def test_replace_on_changes_acts_only_on_keys_the_diff_reports(counter: CounterProject) -> None:
    """``applyReplaceOnChanges``: the option turns reported changed keys into replace keys. The
    dynamic-provider server never reports keys when the provider answers definitely, so a change
    of ``label`` stays an update; with DIFF_UNKNOWN the engine computes the keys and replaces."""
    counter.engine(replace_on="label").up()

    definite = counter.engine(replace_on="label", label="two").up()

    assert definite.ok, definite.error
    assert definite.ops()["a"] == "update"
    assert counter.mutations()[-1] == ("update", "a")

    counter.engine(replace_on="label", label="two", diff_unknown="true").up()  # no change
    unknown = counter.engine(replace_on="label", label="three", diff_unknown="true").up()

    assert unknown.ok, unknown.error
    assert unknown.ops()["a"] == "replace"
    assert ("delete", "a") in counter.mutations()[-3:]


def test_protect_refuses_a_replace_in_up_and_reports_it_in_preview(
    counter: CounterProject,
) -> None:
    """``continueStepsFromDiff``: replacing a resource protected in old and new state is an
    error; a preview reports it and still shows the replace, an up stops before any create."""
    counter.engine(protect="true").up()
    before = counter.mutations()
    message = (
        f'unable to replace resource "{URN_A}"\n'
        "as it is currently marked for protection. To unprotect the resource, remove the "
        "`protect` flag from the resource in your Pulumi program and run `pulumi up`"
    )

    preview = counter.engine(protect="true", slot="2").preview()
    up = counter.engine(protect="true", slot="2").up()

    assert not preview.ok
    assert preview.ops()["a"] == "replace"
    assert preview.error is not None
    assert message in preview.error
    assert not up.ok
    assert up.error is not None
    assert message in up.error
    assert counter.mutations() == before


def test_replacement_is_rechecked_with_the_programs_inputs_and_no_olds(
    counter: CounterProject,
) -> None:
    """``continueStepsFromDiff`` ("recompute the default values"): the re-check of a replacement
    sends the goal's inputs as the program sent them, before ignore_changes, with no olds; the
    first Check saw the inputs after ignore_changes."""
    counter.engine(ignore="label").up()

    result = counter.engine(ignore="label", label="two", slot="2").up()

    assert result.ok, result.error
    assert result.ops()["a"] == "replace"
    checks = [c for c in counter.calls() if c["call"] == "check" and c["name"] == "a"]
    first, recheck = checks[-2], checks[-1]
    assert first["news"]["label"] == "one"  # ignore_changes kept the old value
    assert first["olds"]["label"] == "one"
    assert recheck["olds"] == {}
    assert recheck["news"]["label"] == "two"
    create = [c for c in counter.calls() if c["call"] == "create" and c["name"] == "a"][-1]
    assert create["props"]["label"] == "two"


def test_programs_delete_before_replace_overrides_the_provider(counter: CounterProject) -> None:
    """``continueStepsFromDiff``: ``deleteBeforeReplace`` set by the program, true or false,
    replaces the provider's answer; unset, the provider's answer stands."""
    counter.engine(provider_dbr="true", dbr="false").up()

    kept = counter.engine(provider_dbr="true", dbr="false", slot="2").up()

    assert kept.ok, kept.error
    assert counter.mutations()[2:] == [("create", "a"), ("update", "b"), ("delete", "a")]

    provider = counter.engine(provider_dbr="true", slot="3").up()

    assert provider.ok, provider.error
    assert counter.mutations()[5:] == [("delete", "a"), ("create", "a"), ("update", "b")]

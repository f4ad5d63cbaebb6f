"""The engine behaviours of docs/engine-fidelity.md, each run on the test engine AND the real CLI.

One scenario list, two backends (see backends.py): ``engine`` always runs; ``cli`` runs where
``pulumi`` is on PATH and is skipped, with that reason, elsewhere. A scenario asserts only what
both can show: success, the printed diagnostics, operations per resource, the calls the counter
provider logged, and the exported stack. Each names the engine function it pins
(pulumi/pulumi v3.259.0).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.pulumi_versions import provider_error_tail
from tests.wire import SECRET_KEY, SECRET_SIG

from .backends import Backend

pytestmark = pytest.mark.engine

COUNTER = "pulumi-python:dynamic/counter:Counter"
URN_A = f"urn:pulumi:dev::counter::{COUNTER}::a"
URN_B = f"urn:pulumi:dev::counter::counter:index:Group${COUNTER}::b"
URN_C = f"urn:pulumi:dev::counter::{COUNTER}::c"
NO_B = {"with_b": "false"}


# -- the lifecycle --------------------------------------------------------------------------


def test_lifecycle_calls_and_olds(stack: Backend) -> None:
    """Preview calls no Create (``supportsPreview`` false) and writes nothing; Check gets the
    old inputs, Diff and Update the old outputs (the dynamic server drops ``old_inputs``); an
    unchanged program is all sames; a removed resource is deleted with its old outputs."""
    preview = stack.run("preview", {})
    created = stack.run("up", {})
    same = stack.run("up", {})
    updated = stack.run("up", {"label": "two"})
    removed = stack.run("up", {"label": "two", **NO_B})

    assert preview.ops == {"a": "create", "g": "create", "b": "create"}
    assert created.ok, created.text
    assert same.ops == {"a": "same", "g": "same", "b": "same"}
    assert updated.ops["a"] == "update"
    assert removed.ok, removed.text
    calls = stack.calls()
    check = [c for c in calls if c["call"] == "check" and c["name"] == "a"][-1]
    diff = next(c for c in calls if c["call"] == "diff" and c["name"] == "a")
    update = next(c for c in calls if c["call"] == "update")
    delete = next(c for c in calls if c["call"] == "delete")
    assert "serial" not in check["olds"]
    assert check["olds"]["label"] == "two"
    assert diff["olds"]["serial"] == 1.0
    assert (update["olds"]["label"], update["news"]["label"]) == ("one", "two")
    assert (delete["id"], delete["props"]["serial"]) == ("b-2", 2.0)
    assert stack.mutations() == [("create", "a"), ("create", "b"), ("update", "a"), ("delete", "b")]


def test_replace_creates_first_and_a_failed_run_keeps_the_old_for_later(stack: Backend) -> None:
    """Create-before-delete: the old resource goes after the program; when the run fails, it
    stays in state marked for deletion and goes at the end of the next successful update."""
    stack.run("up", {})

    failed = stack.run("up", {"slot": "2", "explode_in": "b", "explode": "update"})
    pending = [r for r in stack.export().values() if r.get("id") == "a-1"]
    fixed = stack.run("up", {"slot": "2"})

    assert not failed.ok
    assert failed.shows("the counter service refused the update")
    assert pending == []  # marked delete: not a live resource of the export
    assert fixed.ok, fixed.text
    assert stack.mutations() == [
        ("create", "a"),
        ("create", "b"),
        ("create", "a"),
        ("update", "b"),
        ("delete", "a"),
    ]
    assert [c for c in stack.calls() if c["call"] == "delete"][-1]["id"] == "a-1"


def test_secrets_stay_secret_in_state(stack: Backend) -> None:
    """``annotateSecrets`` and the step executor: an output named like a secret input, and an
    ``additionalSecretOutputs`` output, are secrets in state; the provider saw them plain."""
    stack.run("up", NO_B)

    a = stack.export()["a"]

    assert a["inputs"]["token"] == {SECRET_KEY: SECRET_SIG, "plaintext": '"tok-1"'}
    assert a["outputs"]["token"] == {SECRET_KEY: SECRET_SIG, "plaintext": '"tok-1"'}
    assert a["outputs"]["password"] == {SECRET_KEY: SECRET_SIG, "plaintext": '"pw-1"'}
    assert next(c for c in stack.calls() if c["call"] == "create")["props"]["token"] == "tok-1"


# -- the four places the first test engine got wrong -----------------------------------------


def test_replace_on_changes_acts_only_on_keys_the_diff_reports(stack: Backend) -> None:
    """``applyReplaceOnChanges``: the dynamic-provider server reports no changed keys when the
    provider answers definitely, so a change stays an update; on DIFF_UNKNOWN the engine
    computes the keys itself (``diffResource``) and the option replaces."""
    stack.run("up", {"replace_on": "label", **NO_B})

    definite = stack.run("up", {"replace_on": "label", "label": "two", **NO_B})
    stack.run("up", {"replace_on": "label", "label": "two", "diff_unknown": "true", **NO_B})
    unknown = stack.run("up", {"replace_on": "label", "label": "3", "diff_unknown": "true", **NO_B})

    assert definite.ok, definite.text
    assert definite.ops["a"] == "update"
    assert unknown.ok, unknown.text
    assert unknown.ops["a"] == "replace"
    assert stack.mutations() == [("create", "a"), ("update", "a"), ("create", "a"), ("delete", "a")]


def test_replace_on_changes_reaches_below_the_top_level_on_diff_unknown(stack: Backend) -> None:
    """``applyReplaceOnChanges``: on DIFF_UNKNOWN the engine's own diff also gives detailed-diff
    paths (``NewDetailedDiffFromObjectDiff``), and one under a ``replace_on_changes`` path makes
    the diff a replace: ``tags.a`` replaces on a change of ``tags.a``, not of ``tags.b``."""
    config = {"replace_on": "tags.a", "diff_unknown": "true", **NO_B}
    stack.run("up", {**config, "tags": json.dumps({"a": "1", "b": "1"})})

    beside = stack.run("up", {**config, "tags": json.dumps({"a": "1", "b": "2"})})
    under = stack.run("up", {**config, "tags": json.dumps({"a": "2", "b": "2"})})

    assert beside.ok, beside.text
    assert beside.ops["a"] == "update"
    assert under.ok, under.text
    assert under.ops["a"] == "replace"
    assert stack.mutations() == [("create", "a"), ("update", "a"), ("create", "a"), ("delete", "a")]


def test_protect_refuses_a_replace(stack: Backend) -> None:
    """``continueStepsFromDiff``: replacing a resource protected in old and new state is an
    error; a preview reports it and still shows the replace, an up stops before any create."""
    stack.run("up", {"protect": "true", **NO_B})
    message = (
        f'unable to replace resource "{URN_A}"\n'
        "as it is currently marked for protection. To unprotect the resource, remove the "
        "`protect` flag from the resource in your Pulumi program and run `pulumi up`"
    )

    preview = stack.run("preview", {"protect": "true", "slot": "2", **NO_B})
    up = stack.run("up", {"protect": "true", "slot": "2", **NO_B})

    assert not preview.ok
    assert preview.ops["a"] == "replace"
    assert preview.shows(message)
    assert not up.ok
    assert up.shows(message)
    assert stack.mutations() == [("create", "a")]


def test_replacement_is_rechecked_with_the_programs_inputs_and_no_olds(stack: Backend) -> None:
    """``continueStepsFromDiff`` ("recompute the default values"): the first Check sees the
    inputs after ``ignoreChanges``, the re-check of the replacement the program's, no olds."""
    stack.run("up", {"ignore": "label", **NO_B})

    result = stack.run("up", {"ignore": "label", "label": "two", "slot": "2", **NO_B})

    assert result.ok, result.text
    assert result.ops["a"] == "replace"
    checks = [c for c in stack.calls() if c["call"] == "check"]
    first, recheck = checks[-2], checks[-1]
    assert (first["olds"]["label"], first["news"]["label"]) == ("one", "one")
    assert (recheck["olds"], recheck["news"]["label"]) == ({}, "two")
    assert [c for c in stack.calls() if c["call"] == "create"][-1]["props"]["label"] == "two"


def test_programs_delete_before_replace_overrides_the_provider(stack: Backend) -> None:
    """``continueStepsFromDiff``: the program's ``deleteBeforeReplace``, true or false, replaces
    the provider's answer; left unset, the provider's answer stands."""
    stack.run("up", {"provider_dbr": "true", "dbr": "false", **NO_B})

    kept = stack.run("up", {"provider_dbr": "true", "dbr": "false", "slot": "2", **NO_B})
    provider = stack.run("up", {"provider_dbr": "true", "slot": "3", **NO_B})

    assert kept.ok, kept.text
    assert provider.ok, provider.text
    assert stack.mutations() == [
        ("create", "a"),
        ("create", "a"),
        ("delete", "a"),
        ("delete", "a"),
        ("create", "a"),
    ]


def test_a_delete_before_replace_deletes_the_dependents_it_replaces_first(stack: Backend) -> None:
    """``calculateDependentReplacements``: before ``a`` is deleted to be replaced, ``b``, whose
    ``slot`` comes from ``a``, is asked (Diff with that input unknown) and, replaced by it, is
    deleted first; registered again, it is created with no Diff of its own (``recreating``)."""
    stack.run("up", {"b_slot_from_a": "true", "dbr": "true"})
    before = len(stack.calls())

    result = stack.run("up", {"b_slot_from_a": "true", "dbr": "true", "slot": "2"})

    assert result.ok, result.text
    assert (result.ops["a"], result.ops["b"]) == ("replace", "replace")
    assert stack.mutations() == [
        ("create", "a"),
        ("create", "b"),
        ("delete", "b"),
        ("delete", "a"),
        ("create", "a"),
        ("create", "b"),
    ]
    calls = stack.calls()[before:]
    (asked,) = [c for c in calls if c["call"] == "diff" and c["name"] == "b"]
    assert asked["news"]["slot"] != asked["olds"]["slot"]  # unknown: a is not created yet
    (checked,) = [c for c in calls if c["call"] == "check" and c["name"] == "b"]
    assert checked["olds"] == {}  # recreated: checked with no old inputs
    exported = stack.export()
    assert exported["b"]["inputs"]["slot"] == "a3.0"  # the new a is the third create
    assert not exported["b"].get("pendingReplacement")


def test_a_dependent_deleted_first_and_not_registered_again_leaves_the_state(
    stack: Backend, tmp_path: Path
) -> None:
    """``GenerateDeletes``: a dependent the delete-before-replace deleted and the program no
    longer registers is only dropped from state (``RemovePendingReplaceStep``): one Delete in
    all, and no resource is left pending replacement under a deleted parent. A preview plans
    the same (its delete steps run too, calling no provider), so ``up --plan`` holds it. (The
    CLI's event stream may show ``b``'s non-logical ``delete-replaced``; the test engine lists
    no step for it.)"""
    base = {"b_slot_from_a": "true", "dbr": "true"}
    changed = {**base, "slot": "2", "with_b": "false"}
    plan = tmp_path / "plan.json"
    stack.run("up", base)

    preview = stack.run("preview", changed, save_plan=plan)
    result = stack.run("up", changed, plan=plan)

    for run in (preview, result):
        assert run.ok, run.text
        assert (run.ops["a"], run.ops["g"]) == ("replace", "delete")
        assert run.ops.get("b") in (None, "delete-replaced")
    assert stack.mutations() == [
        ("create", "a"),
        ("create", "b"),
        ("delete", "b"),
        ("delete", "a"),
        ("create", "a"),
    ]
    exported = stack.export()
    assert "a" in exported
    assert not {"b", "g"} & set(exported)


def test_a_protected_dependent_stops_a_delete_before_replace(stack: Backend) -> None:
    """``continueStepsFromDiff``: a dependent the replacement would replace that is protected
    stops the run, in a preview too, before anything is deleted."""
    config = {"b_slot_from_a": "true", "dbr": "true", "protect_b": "true"}
    stack.run("up", config)
    message = (
        f'unable to replace resource "{URN_B}" as part of replacing "{URN_A}" as it is '
        "currently marked for protection. To unprotect the resource, remove the `protect` flag "
        "from the resource in your Pulumi program and run `pulumi up`, or use the command:\n"
        f"`pulumi state unprotect '{URN_B}'`"
    )

    preview = stack.run("preview", {**config, "slot": "2"})
    up = stack.run("up", {**config, "slot": "2"})

    assert not preview.ok
    assert preview.shows(message)
    assert not up.ok
    assert up.shows(message)
    assert stack.mutations() == [("create", "a"), ("create", "b")]


def test_check_failure_is_printed_with_the_value_as_the_engine_formats_it(stack: Backend) -> None:
    """``issueCheckFailures``: ``property <p> value <v> has a problem: <reason>``, the value as
    ``PropertyValue.String()`` gives it."""
    result = stack.run("preview", {"count": "-2", **NO_B})

    assert not result.ok
    assert result.shows(
        f"{COUNTER} resource 'a': property count value {{-2}} has a problem: "
        "must be a positive whole number"
    )


def test_after_a_bail_no_later_registration_gets_a_step(stack: Backend) -> None:
    """``deploymentExecutor.Execute``: the main loop generates one registration's steps at a
    time, in arrival order (Check included), and returns on a bail, so nothing that arrives
    after the failing Check is checked: ``c`` when it arrived after ``a``, and ``late``, sent
    only once ``c`` has been checked and created, two provider calls after ``a`` arrived.
    Whichever of ``a`` and ``c`` came first, no Check follows ``a``'s, and a resource the run
    reached is created whole."""
    result = stack.run("up", {"count": "-2", "with_c": "true", "late": "true", **NO_B})

    assert not result.ok
    assert result.shows(f"{COUNTER} resource 'a': property count value {{-2}} has a problem")
    checks = [c["name"] for c in stack.calls() if c["call"] == "check"]
    assert checks[-1] == "a"
    assert "late" not in checks
    created = [name for call, name in stack.mutations() if call == "create"]
    assert created in ([], ["c"])
    counters = {name for name, res in stack.export().items() if res["type"] == COUNTER}
    assert counters == set(created)


# -- update plans -------------------------------------------------------------------------------


def test_a_saved_plan_holds_an_unchanged_up(stack: Backend, tmp_path: Path) -> None:
    """``preview --save-plan``: per URN the planned steps, the checked inputs to add and the
    Check seed; ``up --plan`` with the same program passes."""
    plan = tmp_path / "plan.json"

    preview = stack.run("preview", NO_B, save_plan=plan)
    up = stack.run("up", NO_B, plan=plan)

    assert preview.ok, preview.text
    entry = json.loads(plan.read_text())["resourcePlans"][URN_A]
    assert entry["steps"] == ["create"]
    assert entry["goal"]["inputDiff"]["adds"]["label"] == "one"
    assert entry["goal"]["inputDiff"]["adds"]["token"][SECRET_KEY] == SECRET_SIG
    assert len(base64.b64decode(entry["seed"])) == 32
    assert entry["state"]["label"] == "one"  # the step's outputs, advisory (step_executor.go)
    assert up.ok, up.text
    assert stack.mutations() == [("create", "a")]


def test_a_plan_holds_deletes(stack: Backend, tmp_path: Path) -> None:
    """``GenerateDeletes``: a preview plans the delete of a removed resource (a plan with no
    goal); the up under the plan performs it."""
    stack.run("up", {})
    plan = tmp_path / "plan.json"

    preview = stack.run("preview", NO_B, save_plan=plan)
    up = stack.run("up", NO_B, plan=plan)

    assert preview.ok, preview.text
    planned = json.loads(plan.read_text())["resourcePlans"][URN_B]
    assert planned["steps"] == ["delete"]
    assert "goal" not in planned
    assert up.ok, up.text
    assert stack.mutations()[-1] == ("delete", "b")


def test_an_input_the_plan_did_not_expect_violates_it(stack: Backend, tmp_path: Path) -> None:
    """``checkDiff`` / ``MakeError``: ``resource <urn> violates plan: properties changed:
    ++label[{one}!={two}]``; nothing is created."""
    plan = tmp_path / "plan.json"
    stack.run("preview", NO_B, save_plan=plan)

    result = stack.run("up", {"label": "two", **NO_B}, plan=plan)

    assert not result.ok
    assert result.shows(
        f"resource {URN_A} violates plan: properties changed: ++label[{{one}}!={{two}}]"
    )
    assert stack.mutations() == []


def test_one_secret_output_fewer_than_planned_reads_as_the_engine_words_it(
    stack: Backend, tmp_path: Path
) -> None:
    """``diffPropertyKeys`` sizes the program's list by the plan's, so a key the program no
    longer names shows as an empty name added: ``added ; deleted serial``."""
    plan = tmp_path / "plan.json"
    stack.run("preview", {"secret_outputs": "serial", **NO_B}, save_plan=plan)

    result = stack.run("up", NO_B, plan=plan)

    assert not result.ok
    assert result.shows(
        f"resource {URN_A} violates plan: additionalSecretOutputs changed: added ; deleted serial"
    )
    assert stack.mutations() == []


def test_an_operation_beyond_the_plan_violates_it(stack: Backend, tmp_path: Path) -> None:
    """``ConstrainedTo``: a planned same allows only a same, so a forced replace is refused."""
    stack.run("up", NO_B)
    plan = tmp_path / "plan.json"
    stack.run("preview", NO_B, save_plan=plan)

    result = stack.run("up", NO_B, plan=plan, replace=[URN_A])

    assert not result.ok
    assert result.shows(
        "create-replacement is not allowed by the plan: this resource is constrained to same"
    )
    assert stack.mutations() == [("create", "a")]


def test_operations_the_plan_expected_must_happen(stack: Backend, tmp_path: Path) -> None:
    """``deploymentExecutor.Execute``: a planned operation that never happened is an error."""
    plan = tmp_path / "plan.json"
    stack.run("preview", {}, save_plan=plan)

    result = stack.run("up", NO_B, plan=plan)

    assert not result.ok
    assert result.shows(f"expected resource operations for {URN_B} but none were seen")


def test_strict_holds_a_deterministic_check_and_refuses_a_clock(stack: Backend) -> None:
    """``up --strict``: the preview's plan constrains the update; a Check that reads the clock
    changes its answer in between and violates the plan before anything is created."""
    steady = stack.run("up", NO_B, strict=True)
    clocked = stack.run("up", {"stamp": "true", "slot": "2", **NO_B}, strict=True)

    assert steady.ok, steady.text
    assert not clocked.ok
    assert f"resource {URN_A} violates plan: properties changed: " in clocked.text
    assert "stamp[" in clocked.text
    assert stack.mutations() == [("create", "a")]


# -- refresh, import, targets, --replace, --expect-no-changes ----------------------------------


def test_refresh_keeps_what_read_returns(stack: Backend) -> None:
    """``RefreshStep.Apply``: Read gets the old outputs; no drift is a same and secrets stay
    secret; drift the provider's Diff reports is an update; an empty ID deletes."""
    stack.run("up", NO_B)

    same = stack.run("refresh", NO_B)
    password = stack.export()["a"]["outputs"]["password"]
    drift = stack.run("refresh", {"drift": "drifted", **NO_B})
    label = stack.export()["a"]["outputs"]["label"]
    gone = stack.run("refresh", {"drift": "gone", **NO_B})

    assert same.ok, same.text
    assert same.ops["a"] == "same"
    read = next(c for c in stack.calls() if c["call"] == "read")
    assert read["props"]["serial"] == 1.0
    assert password == {SECRET_KEY: SECRET_SIG, "plaintext": '"pw-1"'}
    assert drift.ops["a"] == "update"
    assert label == "drifted"
    assert gone.ops["a"] == "delete"
    assert "a" not in stack.export()


def test_up_with_refresh_diffs_against_the_refreshed_state(stack: Backend) -> None:
    """``up --refresh``: the refresh runs first, so Diff sees the drift and updates."""
    stack.run("up", NO_B)

    plain = stack.run("preview", {"drift": "drifted", **NO_B})
    refreshed = stack.run("up", {"drift": "drifted", **NO_B}, refresh=True)

    assert plain.ops["a"] == "same"
    assert refreshed.ok, refreshed.text
    assert refreshed.ops["a"] == "update"
    assert stack.mutations()[-1] == ("update", "a")


def test_a_failed_read_during_up_refresh_stops_the_run_before_the_program(stack: Backend) -> None:
    """``deploymentExecutor.refresh``: when a refresh step errors, the executor bails before it
    iterates the source, so the program never runs: no Check, no create, no update, no delete;
    the state keeps what it had."""
    stack.run("up", {"with_c": "true", **NO_B})
    before = len(stack.calls())

    result = stack.run("up", {"read_fails": "a", "label": "two", **NO_B}, refresh=True)

    assert not result.ok
    assert result.shows("the counter service could not read the counter")
    assert not result.shows("counter program ran")
    # the refresh's own calls (a Read, and a Diff for the resource read back) and nothing else
    assert {c["call"] for c in stack.calls()[before:]} == {"read", "diff"}
    assert sorted(stack.mutations()) == [("create", "a"), ("create", "c")]  # concurrent creates
    kept = stack.export()
    assert kept["a"]["inputs"]["label"] == "one"
    assert "c" in kept


def test_refresh_leaves_a_child_of_a_resource_gone_without_a_parent(stack: Backend) -> None:
    """``rebuildBaseState``'s ``undangleParentResources``: when a refresh finds a parent gone,
    its children's parent becomes ``availableParents[parent]``, a map of the resources kept,
    so empty: the state keeps no child of a missing parent (the CLI refuses such a snapshot)."""
    stack.run("up", {"with_d": "true", **NO_B})
    before = stack.export()

    result = stack.run("refresh", {"with_d": "true", "read_gone": "a", **NO_B})

    assert result.ok, result.text
    after = stack.export()
    assert before["d"]["parent"] == before["a"]["urn"]
    assert "a" not in after
    assert after["d"].get("parent", "") == ""  # the export leaves an empty parent out


def test_outputs_that_violate_the_plan_are_not_saved(stack: Backend) -> None:
    """``executeRegisterResourceOutputs``: registered outputs the plan did not expect return
    "resource violates plan" before they are set, and the deployment bails: the stack and the
    component keep their old outputs."""
    stack.run("up", {"nondet": "true"})
    before = stack.export()

    result = stack.run("up", {"nondet": "true"}, strict=True)

    after = stack.export()
    assert not result.ok
    assert after["g"]["outputs"]["stamp"] == before["g"]["outputs"]["stamp"]
    assert after["counter-dev"]["outputs"]["stamp"] == before["counter-dev"]["outputs"]["stamp"]


def test_stack_outputs_that_violate_the_plan_are_not_saved(stack: Backend) -> None:
    """The stack's outputs alone, checked when the stack's outputs are finalised: they keep
    their old values and the run fails (the CLI prints no diagnostic there: the ledger)."""
    stack.run("up", {"nondet_stack": "true", **NO_B})
    before = stack.export()["counter-dev"]["outputs"]["stamp"]

    result = stack.run("up", {"nondet_stack": "true", **NO_B}, strict=True)

    assert not result.ok
    assert stack.export()["counter-dev"]["outputs"]["stamp"] == before


def test_an_error_the_program_logs_fails_nothing(stack: Backend) -> None:
    """``hostServer.Log`` only reports a logged error, and the Python exec script exits 0
    after a program that returns: the up succeeds, and the message is shown."""
    result = stack.run("up", {"log_error": "quota exceeded", **NO_B})

    assert result.ok, result.text
    assert result.shows("quota exceeded")
    assert stack.mutations() == [("create", "a")]


def test_import_fails_in_the_dynamic_provider_server(stack: Backend) -> None:
    """``ImportStep.Apply``: Read with only the ID; the dynamic-provider server looks for the
    serialized provider in the empty state and fails before any provider code runs."""
    stack.run("up", NO_B)

    result = stack.run("import", NO_B, args=(COUNTER, "imported", "x-1"))

    assert not result.ok
    # The server's KeyError as every supported SDK (3.260 and later) sends it: a traceback
    # ending "KeyError: '__provider'" (tests/pulumi_versions.py).
    assert provider_error_tail("KeyError", "'__provider'") in result.text
    assert [c for c in stack.calls() if c["call"] == "read"] == []


def test_targets(stack: Backend) -> None:
    """``isIncludedInOperation`` / ``GenerateDeletes``: untargeted resources keep their state
    and get no Check; an untargeted create is skipped; an untargeted, unrelated removed resource
    stays; removing a dependent of the target needs it targeted."""
    stack.run("up", {})
    before = len(stack.calls())

    result = stack.run("up", {"label": "two", "with_c": "true"}, targets=[URN_A])
    checked = {c["name"] for c in stack.calls()[before:] if c["call"] == "check"}
    skipped = "c" not in stack.export()
    stack.run("up", {"with_c": "true"})
    kept = stack.run("up", {}, targets=[URN_A])
    dependent = stack.run("up", NO_B, targets=[URN_A])

    assert result.ok, result.text
    assert (result.ops["a"], result.ops["b"]) == ("update", "same")
    assert checked == {"a"}
    assert skipped
    assert kept.ok, kept.text
    assert "c" in stack.export()
    assert not dependent.ok
    assert dependent.shows(
        f"Resource '{URN_B}' will be destroyed but was not specified in --target list.\n"
        "Either include resource in --target list or pass --target-dependents to proceed."
    )
    assert ("delete", "b") not in stack.mutations()


def test_an_unknown_target_is_an_error(stack: Backend) -> None:
    """``checkTargets``: a target in neither the old nor the new state fails the run."""
    stack.run("up", NO_B)

    result = stack.run("preview", NO_B, targets=[URN_C])

    assert not result.ok
    assert result.shows(
        f"Target '{URN_C}' could not be found in the stack. "
        "Did you forget to escape $ in your shell?"
    )


def test_glob_targets_match_and_need_not_exist(stack: Backend) -> None:
    """``NewUrnTargets``: a target holding ``*`` is a glob (``*`` within a URN segment, ``**``
    across them); ``checkTargets`` checks only the literal ones, so a glob matching nothing is
    not an error. An empty list constrains nothing (``IsConstrained``)."""
    stack.run("up", NO_B)

    segment = stack.run("preview", {"label": "two", **NO_B}, targets=[URN_A[:-1] + "*"])
    across = stack.run("preview", {"label": "two", **NO_B}, targets=["**::a"])
    nothing = stack.run("preview", {"label": "two", **NO_B}, targets=["**::nothing-*"])
    narrow = stack.run("preview", {"label": "two", **NO_B}, targets=["urn:pulumi:dev::*::a"])
    every = stack.run("preview", {"label": "two", **NO_B}, targets=[])

    assert segment.ok, segment.text
    assert segment.ops["a"] == "update"
    assert across.ok, across.text
    assert across.ops["a"] == "update"
    assert nothing.ok, nothing.text
    assert nothing.ops["a"] == "same"
    assert narrow.ok, narrow.text
    assert narrow.ops["a"] == "same"  # one `*` does not cross the type's `::` separators
    assert every.ok, every.text
    assert every.ops["a"] == "update"


def test_a_replace_glob_replaces_what_it_matches(stack: Backend) -> None:
    """``--replace`` targets are ``UrnTargets`` too (``NewUrnTargets`` in ``up.go``)."""
    stack.run("up", NO_B)

    result = stack.run("up", NO_B, replace=["**::a"])

    assert result.ok, result.text
    assert result.ops["a"] == "replace"


def test_an_id_asked_to_be_secret_is_not_and_the_engine_warns(stack: Backend) -> None:
    """``step_executor.go``: ``additionalSecretOutputs`` naming ``id`` makes nothing secret
    and warns, after the step; the run succeeds."""
    result = stack.run("up", {"secret_outputs": "id", **NO_B})

    assert result.ok, result.text
    assert result.shows(
        "The 'id' property cannot be made secret. See pulumi/pulumi#2717 for more details."
    )
    assert stack.export()["a"]["id"]


def test_a_skipped_create_warns_of_an_id_asked_to_be_secret_too(stack: Backend) -> None:
    """``step_executor.go``: the warning comes after every step with a new state but a
    replace, so also after the same step of a create ``--target`` skips."""
    result = stack.run("up", {"with_c": "true", "c_secret_outputs": "id", **NO_B}, targets=[URN_A])

    assert result.ok, result.text
    assert result.ops["c"] == "same"
    assert result.shows(
        "The 'id' property cannot be made secret. See pulumi/pulumi#2717 for more details."
    )
    assert "c" not in stack.export()


def test_refresh_checks_its_targets_before_it_reads(stack: Backend) -> None:
    """``refresh`` runs ``checkTargets`` on the old state before any Read, for ``pulumi
    refresh`` and ``up --refresh`` alike; the up then runs no program and changes nothing."""
    stack.run("up", NO_B)
    before = len(stack.calls())

    refreshed = stack.run("refresh", NO_B, targets=[URN_C])
    up = stack.run("up", {"label": "two", **NO_B}, targets=[URN_A, URN_C], refresh=True)

    message = (
        f"Target '{URN_C}' could not be found in the stack. "
        "Did you forget to escape $ in your shell?"
    )
    assert not refreshed.ok
    assert refreshed.shows(message)
    assert not up.ok
    assert up.shows(message)
    assert [c["call"] for c in stack.calls()[before:] if c["call"] in ("read", "update")] == []


def test_refresh_of_an_empty_stack_checks_no_target(stack: Backend) -> None:
    """``refresh`` returns before ``checkTargets`` when the old state is empty."""
    result = stack.run("refresh", NO_B, targets=[URN_C])

    assert result.ok, result.text


def test_replace_target_is_checked_without_olds_and_replaced(stack: Backend) -> None:
    """``isTargetedReplace``: Check without old inputs, then create before delete."""
    stack.run("up", NO_B)

    result = stack.run("up", NO_B, replace=[URN_A])

    assert result.ok, result.text
    assert result.ops["a"] == "replace"
    assert [c for c in stack.calls() if c["call"] == "check"][-1]["olds"] == {}
    assert stack.mutations() == [("create", "a"), ("create", "a"), ("delete", "a")]


def test_expect_no_changes(stack: Backend, tmp_path: Path) -> None:
    """``NoChangesExpectedError``: a preview with changes fails and writes no plan; an up
    applies its changes, then fails."""
    stack.run("up", NO_B)
    plan = tmp_path / "plan.json"

    quiet = stack.run("preview", NO_B, expect_no_changes=True)
    noisy = stack.run("preview", {"label": "two", **NO_B}, expect_no_changes=True, save_plan=plan)
    applied = stack.run("up", {"label": "two", **NO_B}, expect_no_changes=True)

    assert quiet.ok, quiet.text
    assert not noisy.ok
    assert noisy.shows("no changes were expected for preview but changes were proposed")
    assert not plan.exists()
    assert not applied.ok
    assert applied.shows("no changes were expected for update but changes were proposed")
    assert stack.mutations()[-1] == ("update", "a")


# -- protect, retain on delete, ignore changes ---------------------------------------------------


def test_a_protected_resource_is_not_deleted(stack: Backend) -> None:
    """``DeleteStep.Apply``: deleting a protected resource fails with the engine's message,
    and other deletes go on."""
    stack.run("up", {"protect": "true"})

    result = stack.run("destroy", {"protect": "true"})

    assert not result.ok
    assert result.shows(
        f'resource "{URN_A}" cannot be deleted\nbecause it is protected. To unprotect the '
        "resource, either remove the `protect` flag from the resource in your Pulumi program and "
        "run `pulumi up`, or use the command:\n"
        f"`pulumi state unprotect '{URN_A}'`"
    )
    assert ("delete", "b") in stack.mutations()
    assert ("delete", "a") not in stack.mutations()
    assert "a" in stack.export()


def test_protect_is_inherited_and_blocks_what_it_depends_on(stack: Backend) -> None:
    """``inheritFromParent``: a child that does not say inherits its parent's ``protect``;
    ``performPostSteps``: what a failed delete depends on is not deleted either."""
    stack.run("up", {"protect_g": "true"})

    result = stack.run("destroy", {"protect_g": "true"})

    assert not result.ok
    assert result.shows(f'resource "{URN_B}" cannot be deleted')
    assert stack.mutations() == [("create", "a"), ("create", "b")]
    assert {"a", "g", "b"} <= set(stack.export())


def test_retain_on_delete_forgets_without_calling_delete(stack: Backend) -> None:
    """``DeleteStep.Apply``: a retained resource leaves the state with no provider Delete."""
    stack.run("up", {"retain": "true", **NO_B})

    result = stack.run("destroy", {"retain": "true", **NO_B})

    assert result.ok, result.text
    assert stack.mutations() == [("create", "a")]
    assert "a" not in stack.export()


def test_ignore_changes_keeps_the_old_value(stack: Backend) -> None:
    """``processIgnoreChanges``: the ignored input gets its old value back before Check."""
    stack.run("up", {"ignore": "label", **NO_B})

    result = stack.run("up", {"ignore": "label", "label": "two", **NO_B})

    assert result.ok, result.text
    assert result.ops["a"] == "same"
    assert stack.export()["a"]["inputs"]["label"] == "one"

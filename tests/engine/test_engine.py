"""The test engine against a small dynamic provider of our own (tests/engine/programs/counter).

Real in every test: the program runs in its own process through the real Pulumi Python SDK
(``pulumi.runtime.run_in_stack``), which talks real gRPC to the engine's ResourceMonitor; dynamic
resources are sent over real gRPC to the real ``python -u -m pulumi.dynamic`` server, which
unpickles the real provider class. The provider logs every call it receives to a file, so the
assertions see what really reached the provider, not what the engine says it sent.

Stood in for: the Go engine and the CLI (step rules, state, display) and the language host's
exec script. Each test names the engine behaviour it pins down.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import cast

import pytest

from pulumi_metal_reset.testing._diffs import diff_resource, display_diff
from pulumi_metal_reset.testing._provider import (
    DIFF_NONE,
    DIFF_SOME,
    DIFF_UNKNOWN,
    DiffAnswer,
    ProviderClient,
)
from pulumi_metal_reset.testing._state import ResourceState, save_state
from pulumi_metal_reset.testing._urns import make_urn, urn_name, urn_type
from pulumi_metal_reset.testing._wire import PropertyMap
from pulumi_metal_reset.testing.engine import UNKNOWN, ProjectError, Secret, TestEngine
from pulumi_metal_reset.testing.faketime import faketime_env
from tests.counter_log import TOKEN
from tests.wire import is_wrapped_secret, secret

from .conftest import CounterProject, raised

pytestmark = pytest.mark.engine

UNKNOWN_WIRE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
COUNTER = "pulumi-python:dynamic/counter:Counter"


def test_preview_on_empty_state_plans_creates_and_calls_no_create(
    counter: CounterProject,
) -> None:
    """Preview: Configure, Check run for real; Create never (supportsPreview=False); no state."""
    result = counter.engine().preview()

    assert result.ok, result.error
    assert result.ops() == {"a": "create", "g": "create", "b": "create"}
    assert set(result.provider_methods()) == {"Configure", "Check"}
    assert result.provider_methods()[0] == "Configure"
    assert counter.mutations() == []
    assert not counter.state_path.exists()
    # The planned state is the checked inputs; outputs only create would produce are absent,
    # which the SDK resolves as unknown.
    assert result.step("a").outputs["label"] == "one"
    assert "serial" not in result.step("a").outputs
    assert result.outputs["a_password"] is UNKNOWN
    text = result.render()
    assert text.startswith("Previewing update (dev):\n")
    assert f"+  {COUNTER}  a  create" in text
    assert "+ 4 to create" in text


def test_unknown_input_reaches_check_as_unknown_during_preview(counter: CounterProject) -> None:
    """Preview: b's input comes from a's not-yet-created output; the SDK sends the unknown
    sentinel, the engine passes it through to Check (keep_unknowns), and the checked inputs keep it.
    """
    result = counter.engine().preview()

    assert result.ok, result.error
    checks = {c["name"]: c for c in counter.calls() if c["call"] == "check"}
    assert checks["b"]["news"]["source"] == "<unknown>"
    assert result.step("b").outputs["source"] is UNKNOWN


def test_urns_follow_the_parent_chain(counter: CounterProject) -> None:
    """URNs as the engine builds them: parent types joined with `$`, the root stack left out."""
    result = counter.engine().preview()

    urns = {s.name: s.urn for s in result.steps}
    assert urns["counter-dev"] == "urn:pulumi:dev::counter::pulumi:pulumi:Stack::counter-dev"
    assert urns["a"] == f"urn:pulumi:dev::counter::{COUNTER}::a"
    assert urns["g"] == "urn:pulumi:dev::counter::counter:index:Group::g"
    assert urns["b"] == f"urn:pulumi:dev::counter::counter:index:Group${COUNTER}::b"


def test_up_creates_and_saves_state_with_secrets_secret(counter: CounterProject) -> None:
    """Up: Check then Create with secrets stripped on the wire; secret-ness restored in state
    (inputs that were secret, additional_secret_outputs, the __provider blob) and in outputs."""
    result = counter.engine().up()

    assert result.ok, result.error
    assert result.ops() == {"a": "create", "g": "create", "b": "create"}
    assert counter.mutations() == [("create", "a"), ("create", "b")]
    create_a = next(c for c in counter.calls() if c["call"] == "create")
    assert create_a["props"]["token"] == TOKEN  # the provider sees the plain value

    state = counter.state()
    res = {r["urn"].split("::")[-1]: r for r in state["resources"]}
    assert res["a"]["id"] == "a-1"
    assert res["a"]["inputs"]["token"] == secret(TOKEN)
    assert res["a"]["inputs"]["label"] == "one"
    assert res["a"]["outputs"]["token"] == secret(TOKEN)  # input was secret
    assert res["a"]["outputs"]["password"] == secret("pw-1")  # additional_secret_outputs
    assert is_wrapped_secret(res["a"]["outputs"]["__provider"])
    assert state["outputs"]["a_password"] == secret("pw-1")

    password = result.outputs["a_password"]
    assert isinstance(password, Secret)
    assert repr(password) == str(password) == "[secret]"
    assert password.reveal() == "pw-1"
    assert result.outputs["a_serial"] == 1.0
    text = result.render()
    assert "a_password: [secret]" in text
    assert "pw-1" not in text
    assert TOKEN not in text


def test_second_up_is_same_and_calls_no_create_or_update(counter: CounterProject) -> None:
    """Unchanged program: Check (olds = old inputs) and Diff (olds = old outputs) run;
    DIFF_NONE means no provider mutation, and old outputs flow back to the program."""
    engine = counter.engine()
    engine.up()
    before = counter.mutations()

    result = engine.up()

    assert result.ok, result.error
    assert result.ops() == {"a": "same", "g": "same", "b": "same"}
    assert counter.mutations() == before
    assert {"Create", "Update", "Delete"}.isdisjoint(result.provider_methods())
    check_a = [c for c in counter.calls() if c["call"] == "check" and c["name"] == "a"][-1]
    assert check_a["olds"]["label"] == "one"
    assert "serial" not in check_a["olds"]
    diff_a = next(c for c in counter.calls() if c["call"] == "diff" and c["name"] == "a")
    assert diff_a["olds"]["serial"] == 1.0  # an output only: Diff sees old outputs
    assert result.outputs["a_password"] == Secret("pw-1")
    assert "4 unchanged" in result.render()


def test_changed_input_is_an_update_with_diff_keys(counter: CounterProject) -> None:
    """DIFF_SOME without replaces: preview shows update and the changed checked-input names
    (no Update call); up calls Update with olds = old outputs and news = checked inputs."""
    counter.engine().up()

    preview = counter.engine(label="two").preview()
    assert preview.ok, preview.error
    # Preview plans a's outputs as its checked inputs, so a.serial is unknown and b, which
    # reads it, may change too: the real CLI shows the same.
    assert preview.ops() == {"a": "update", "g": "same", "b": "update"}
    assert preview.step("b").diffs == ["source"]
    assert preview.step("a").diffs == ["label"]
    assert f"~  {COUNTER}  a  update  [diff: ~label]" in preview.render()
    assert "Update" not in preview.provider_methods()
    assert counter.mutations() == [("create", "a"), ("create", "b")]

    result = counter.engine(label="two").up()
    assert result.ok, result.error
    assert result.ops() == {"a": "update", "g": "same", "b": "same"}
    update = next(c for c in counter.calls() if c["call"] == "update")
    assert update["olds"]["serial"] == 1.0
    assert update["olds"]["label"] == "one"
    assert update["news"]["label"] == "two"
    res = {r["urn"].split("::")[-1]: r for r in counter.state()["resources"]}
    assert res["a"]["inputs"]["label"] == "two"
    assert res["a"]["outputs"]["password"] == secret("pw-1")


def test_replace_creates_the_new_resource_before_deleting_the_old(
    counter: CounterProject,
) -> None:
    """Replaces non-empty: create-before-delete; the old resource is deleted (with its old
    outputs) only after the program finished, so b's update sees the new a first."""
    counter.engine().up()

    preview = counter.engine(slot="2").preview()
    assert preview.ops()["a"] == "replace"
    assert f"+- {COUNTER}  a  replace  [diff: ~slot]" in preview.render()
    assert counter.mutations() == [("create", "a"), ("create", "b")]

    result = counter.engine(slot="2").up()

    assert result.ok, result.error
    assert result.ops() == {"a": "replace", "g": "same", "b": "update"}
    assert counter.mutations()[2:] == [("create", "a"), ("update", "b"), ("delete", "a")]
    delete = counter.calls()[-1]
    assert delete["id"] == "a-1"
    assert delete["props"]["serial"] == 1.0
    ids = {r["urn"].split("::")[-1]: r["id"] for r in counter.state()["resources"]}
    assert ids == {"counter-dev": "", "a": "a-3", "g": "", "b": "b-2"}


def test_diff_unknown_falls_back_to_comparing_inputs(counter: CounterProject) -> None:
    """DIFF_UNKNOWN (a provider without a diff): the engine compares old and checked inputs."""
    counter.engine(diff_unknown="true").up()

    same = counter.engine(diff_unknown="true").preview()
    changed = counter.engine(diff_unknown="true", label="two").preview()

    assert same.ops() == {"a": "same", "g": "same", "b": "same"}
    assert changed.ops()["a"] == "update"
    assert changed.step("a").diffs == ["label"]


def test_a_duplicate_urn_fails_the_run_and_a_logged_error_fails_nothing(
    counter: CounterProject,
) -> None:
    """A second registration of one URN fails the run. An error the program logs
    (`pulumi.log.error`) is shown among the Diagnostics but fails nothing: ``hostServer.Log``
    only reports it, and the Python exec script exits 0 after a program that returns."""
    duplicate = counter.engine(duplicate_a="true").preview()
    logged = counter.engine(log_error="quota exceeded").preview()

    assert not duplicate.ok
    assert duplicate.error is not None
    assert "Duplicate resource URN" in duplicate.error
    assert logged.ok, logged.error
    assert "error: quota exceeded" in logged.render()


def test_a_program_that_fails_after_logging_an_error_reports_both(
    counter: CounterProject,
) -> None:
    """The logged error may be unrelated to the failure: the failure is reported too."""
    result = counter.engine(log_error="quota exceeded", raise_error="boom").preview()

    assert not result.ok
    assert "quota exceeded" in (result.error or "")
    assert "boom" in (result.error or "")


def test_resource_removed_from_program_is_deleted(counter: CounterProject) -> None:
    """A resource in state that the program no longer registers: preview shows delete without
    calling Delete; up calls Delete with the old outputs and drops it from state."""
    counter.engine().up()

    preview = counter.engine(with_b="false").preview()
    assert preview.ops() == {"a": "same", "g": "delete", "b": "delete"}
    assert f"-  {COUNTER}  b  delete" in preview.render()
    assert "Delete" not in preview.provider_methods()

    result = counter.engine(with_b="false").up()

    assert result.ok, result.error
    assert counter.mutations()[-1] == ("delete", "b")
    assert counter.calls()[-1]["id"] == "b-2"
    names = [r["urn"].split("::")[-1] for r in counter.state()["resources"]]
    assert names == ["counter-dev", "a"]
    assert "b_id" not in result.outputs


def test_a_target_pending_deletion_only_is_found_and_deleted(counter: CounterProject) -> None:
    """``checkTargets`` reads ``allOlds``, which holds resources pending deletion: a target
    (or ``--replace`` target) naming one is no error, and the targeted run deletes it.

    Engine only: the state is edited to leave ``c`` pending deletion with no live twin, which
    the CLI backend has no way to write."""
    engine = counter.engine(with_c="true")
    assert engine.up().ok
    state = engine.load_state()
    state.resources = [
        replace(r, delete=True) if urn_name(r.urn) == "c" else r for r in state.resources
    ]
    save_state(counter.state_path, state)
    urn_c = next(r.urn for r in state.resources if urn_name(r.urn) == "c")

    preview = counter.engine().preview(targets=[urn_c])
    replaced = counter.engine().preview(replace=[urn_c])
    result = counter.engine().up(targets=[urn_c])

    assert preview.ok, preview.error
    assert "could not be found" not in preview.render()
    assert replaced.ok, replaced.error
    assert result.ok, result.error
    assert counter.mutations()[-1] == ("delete", "c")
    # The program registers a and g concurrently, so their order in state may vary.
    left = sorted(urn_name(r.urn) for r in counter.engine().load_state().resources)
    assert left == ["a", "b", "counter-dev", "g"]


def test_destroy_deletes_everything_in_reverse_order(counter: CounterProject) -> None:
    """Destroy without running the program: Configure, then Delete per resource, newest first."""
    counter.engine().up()

    result = counter.engine().destroy()

    assert result.ok, result.error
    assert result.provider_methods() == ["Configure", "Delete", "Delete"]
    assert counter.mutations()[-2:] == [("delete", "b"), ("delete", "a")]
    assert counter.state()["resources"] == []
    assert counter.state()["outputs"] == {}
    again = counter.engine().destroy()
    assert again.ok
    assert again.steps == []
    assert again.provider_calls == []


def test_check_failure_is_printed_like_the_cli(counter: CounterProject) -> None:
    """CheckFailure: ``issueCheckFailures`` prints ``property <p> value <v> has a problem:
    <reason>`` with the value as ``PropertyValue.String()`` gives it, in braces (as in the
    engine's own lifecycle test output, TestPlannedUpdateWithCheckFailure)."""
    result = counter.engine(count="-2").preview()

    assert not result.ok
    assert result.error == (
        f"{COUNTER} resource 'a': property count value {{-2}} has a problem: "
        "must be a positive whole number"
    )
    assert result.step("a").error is not None
    assert "Diagnostics:" in result.render()


def test_check_failure_on_a_secret_input_prints_the_value(counter: CounterProject) -> None:
    """The engine prints the value the program sent, and a secret's ``String()`` is its value
    (``{&{{...}}}``): the CLI masks config secrets in its own output only, so a provider must
    report a problem with a secret without naming the property."""
    result = counter.engine(token="letmein-0").up()

    assert not result.ok
    assert result.error is not None
    assert (
        "property token value {&{{letmein-0}}} has a problem: is a well-known default"
        in result.error
    )
    assert counter.mutations() == []


def test_provider_exception_fails_the_run_and_keeps_earlier_steps(
    counter: CounterProject,
) -> None:
    """A provider exception reaches the engine as gRPC UNKNOWN carrying the traceback; the run
    fails with it, the program sees the error, and completed steps are still saved."""
    counter.engine(with_b="false").up()

    result = counter.engine(explode_in="b", explode="create").up()

    assert not result.ok
    assert result.error is not None
    assert raised(result.error, "RuntimeError", "the counter service refused the request")
    assert result.step("b").error == result.error
    assert "Program failed" in result.program_output
    names = {r["urn"].split("::")[-1] for r in counter.state()["resources"]}
    assert names == {"counter-dev", "a", "g"}  # g completed before b failed


def test_a_protected_dependent_pending_deletion_stops_a_delete_before_replace(
    counter: CounterProject,
) -> None:
    """``DeleteStep.Apply``: a dependent an earlier run left pending deletion goes by a logical
    delete step of its own, which refuses a protected resource (only an edited state, such as
    ``pulumi state protect``, holds one). The chain stops there (``executeChain``), so the
    replaced resource gets no step, and nothing is deleted, in a preview as in an up. (Go goes
    on after a refused delete; the test engine stops the run there.)"""
    base = {"b_slot_from_a": "true", "dbr": "true"}
    assert counter.engine(**base).up().ok
    state = counter.state()
    resources = state["resources"]
    (at,) = [i for i, r in enumerate(resources) if r["urn"].endswith("::b")]
    resources.insert(at + 1, {**resources[at], "id": "b-old", "delete": True, "protect": True})
    counter.state_path.write_text(json.dumps(state))

    preview = counter.engine(**base, slot="2").preview()
    up = counter.engine(**base, slot="2").up()

    for result in (preview, up):
        assert not result.ok
        assert result.error is not None
        assert '::b" cannot be deleted\nbecause it is protected.' in result.error
        assert "a" not in result.ops()
        assert (result.step("b").op, result.step("b").failed) == ("delete", True)
    assert counter.mutations() == [("create", "a"), ("create", "b")]


def test_program_exception_is_reported(counter: CounterProject) -> None:
    """An exception in the program (here: missing required secret config) fails the run."""
    engine = TestEngine(
        counter.dir, config={"log": str(counter.log)}, state_path=counter.state_path
    )

    result = engine.up()

    assert not result.ok
    assert result.error is not None
    assert "Missing required configuration variable 'counter:token'" in result.error
    assert counter.mutations() == []


def test_stack_config_file_and_logs(counter: CounterProject) -> None:
    """Pulumi.<stack>.yaml plain values are namespaced and passed to the program (and to the
    provider's Configure); arguments win; pulumi.log messages arrive through the Engine service."""
    (counter.dir / "Pulumi.dev.yaml").write_text(
        f"config:\n  label: from-file\n  log: {counter.log}\n"
    )
    result = TestEngine(
        counter.dir, secret_config={"token": TOKEN}, state_path=counter.state_path
    ).preview()

    assert result.ok, result.error
    assert result.outputs["label"] == "from-file"
    assert [str(e) for e in result.logs if e.severity == "info"] == ["info: counter program ran"]
    overridden = TestEngine(counter.dir, config={"label": "arg"}, secret_config={"token": "t"})
    assert overridden.config["counter:label"] == "arg"


def test_secure_stack_config_is_rejected(counter: CounterProject) -> None:
    """Encrypted config needs the CLI's secrets provider; the test engine says so."""
    (counter.dir / "Pulumi.dev.yaml").write_text("config:\n  counter:token:\n    secure: AAAA\n")
    with pytest.raises(ProjectError, match="secret_config"):
        TestEngine(counter.dir)


@pytest.mark.faketime
def test_provider_env_moves_only_the_providers_clock(counter: CounterProject) -> None:
    """provider_env reaches the provider process (libfaketime), and gRPC still works there."""
    engine = TestEngine(
        counter.dir,
        config={"log": str(counter.log), "with_b": "false"},
        secret_config={"token": TOKEN},
        provider_env=faketime_env("+31d"),
        state_path=counter.state_path,
    )

    result = engine.up()

    assert result.ok, result.error
    created = next(c for c in counter.calls() if c["call"] == "create")
    assert created["now"] - time.time() == pytest.approx(31 * 86400, abs=600)


def test_a_same_step_shows_a_protect_change_and_never_a_property_diff(
    counter: CounterProject,
) -> None:
    """``getDiffInfo``: "An OpSame might have a diff due to metadata changes (e.g. protect) but
    we should never print a property diff": the provider calls a ``tags`` change no change, so
    the step is a same, and only the protect toggle shows."""
    counter.engine(with_b="false", tags='{"a": "1"}').up()

    preview = counter.engine(with_b="false", tags='{"a": "2"}', protect="true").preview()

    assert preview.ok, preview.error
    assert preview.ops()["a"] == "same"
    assert preview.step("a").diffs == []
    assert f"{COUNTER}  a  same  [diff: ~protect]" in preview.render()


def test_diff_unknown_shows_a_changed_provider_blob_as_the_detailed_diff_does() -> None:
    """``getDiffInfo`` takes a step's detailed diff when it has one (``TranslateDetailedDiff``,
    which hides no ``__`` key); only the engine's own diff on DIFF_UNKNOWN has one, so a changed
    ``__provider`` blob shows there, while a definite answer's diff hides it."""
    old = ResourceState(urn="urn:a", type="t", custom=True, inputs={"__provider": "1", "x": 1})
    new = replace(old, inputs={"__provider": "2", "x": 2})

    # The dynamic server sends no changed keys with a definite answer, so nothing narrows there.
    shown = display_diff(old, new, new.inputs, ["__provider", "x"], detailed=True)
    hidden = display_diff(old, new, new.inputs, [])

    assert shown == (["__provider", "x"], ["~__provider", "~x"])
    assert hidden == (["x"], ["~x"])


def test_diff_unknown_with_no_change_keeps_the_providers_keys() -> None:
    """diffResource sets DIFF_SOME and the engine's own keys only on a change; with none it
    answers DIFF_NONE and leaves the provider's keys as sent (no Python dynamic provider sends
    keys with DIFF_UNKNOWN, so this is pinned on the function itself)."""

    class UnknownDiff:
        def diff(self, old: ResourceState, news: PropertyMap, ignore: list[str]) -> DiffAnswer:
            return DiffAnswer(DIFF_UNKNOWN, [], False, ["from-provider"])

    provider = cast("ProviderClient", UnknownDiff())
    old = ResourceState(urn="urn:a", type="t", custom=True, inputs={"label": "one"})

    same = diff_resource(provider, old, {"label": "one"}, [])
    changed = diff_resource(provider, old, {"label": "two"}, [])

    assert (same.changes, same.changed_keys) == (DIFF_NONE, ["from-provider"])
    assert (changed.changes, changed.changed_keys) == (DIFF_SOME, ["label"])


def test_diff_unknown_gives_the_detailed_diff_paths_of_every_changed_leaf() -> None:
    """``NewDetailedDiffFromObjectDiff``: objects and arrays walked into, adds and deletes at
    the path where they happen, secrets compared by value. ``PropertyMap.Diff`` ignores no
    key, so a changed ``__provider`` blob (a provider pickled by value whose code changed) is a
    change, as under the CLI."""

    class UnknownDiff:
        def diff(self, old: ResourceState, news: PropertyMap, ignore: list[str]) -> DiffAnswer:
            return DiffAnswer(DIFF_UNKNOWN, [], False, [])

    provider = cast("ProviderClient", UnknownDiff())
    olds: PropertyMap = {
        "tags": {"a": "1", "b": "1", "gone": "x"},
        "ports": [80, 443],
        "token": secret("same"),
        "__provider": "blob-1",
        "label": "one",
    }
    news: PropertyMap = {
        "tags": {"a": "2", "b": "1", "new": "y"},
        "ports": [80, 8443, 22],
        "token": secret("same"),
        "__provider": "blob-2",
        "label": None,
    }
    old = ResourceState(urn="urn:a", type="t", custom=True, inputs=olds)

    answer = diff_resource(provider, old, news, [])

    assert answer.changed_keys == ["__provider", "label", "ports", "tags"]
    assert sorted(map(str, answer.detailed_paths)) == sorted(
        map(
            str,
            [
                ["tags", "a"],
                ["tags", "new"],
                ["tags", "gone"],
                ["ports", 1],
                ["ports", 2],
                ["label"],
                ["__provider"],
            ],
        )
    )


def test_a_rename_through_aliases_is_refused_not_recreated(counter: CounterProject) -> None:
    """Aliases are not modelled. An alias that names nothing in state changes nothing under the
    CLI either, so it runs; one that would rename a resource in state fails its step in one
    sentence rather than show the rename as a create and a delete (the CLI shows a same)."""
    kept = counter.engine(with_b="false", aliases="old-a").up()  # a fresh stack: no rename
    counter.engine(with_b="false", with_c="true").up()
    state = json.loads(counter.state_path.read_text())  # leave `c` only, as if `a` were it
    state["resources"] = [r for r in state["resources"] if not r["urn"].endswith("::a")]
    counter.state_path.write_text(json.dumps(state))

    renamed = counter.engine(with_b="false", aliases="c").up()

    assert kept.ok, kept.error
    assert not renamed.ok
    assert "does not model the `aliases` resource option" in (renamed.error or "")


def test_exports_carry_created_and_modified_as_the_engine_records_them(
    counter: CounterProject,
) -> None:
    """``step.go``: Create sets ``created`` and ``modified`` (components too); a same keeps
    both; Update keeps ``created`` and sets ``modified``; a refresh sets ``modified`` only when
    the read found a change. RFC 3339 in UTC with nanoseconds, as Go's JSON writes them."""
    now = [0.0]

    def engine(**config: str) -> TestEngine:
        return TestEngine(
            counter.dir,
            config={"log": str(counter.log), "with_b": "false", **config},
            secret_config={"token": TOKEN},
            state_path=counter.state_path,
            clock=lambda: now[0],
        )

    def stamps() -> dict[str, tuple[str, str]]:
        resources = engine().export()["deployment"]["resources"]
        return {
            r["urn"].rsplit("::", 1)[-1]: (r.get("created", ""), r.get("modified", ""))
            for r in resources
        }

    now[0] = 1_800_000_000.5
    engine().up()
    created = stamps()
    now[0] += 100
    engine().up()  # all sames
    same = stamps()
    now[0] += 100
    engine(label="two").up()
    updated = stamps()
    now[0] += 100
    engine(label="two", drift="two").refresh()  # the read finds nothing new
    unchanged = stamps()
    now[0] += 100
    engine(label="two", drift="three").refresh()
    refreshed = stamps()

    first = "2027-01-15T08:00:00.5Z"
    assert created["a"] == (first, first)
    assert created["counter-dev"] == (first, first)  # the root stack, a component
    assert "default" not in created or created["default"] == ("", "")
    assert same == created
    assert updated["a"] == (first, "2027-01-15T08:03:20.5Z")
    assert unchanged["a"] == updated["a"]
    assert refreshed["a"] == (first, "2027-01-15T08:06:40.5Z")


def test_a_plan_holding_the_default_provider_as_the_cli_writes_it_is_followed(
    counter: CounterProject, tmp_path: Path
) -> None:
    """A plan the CLI saved also plans its default provider (a `same` here); the engine
    registers that provider itself, so the planned operation is not missing."""
    counter.engine(with_b="false").up()
    plan = tmp_path / "plan.json"
    counter.engine(with_b="false").preview(save_plan=plan)
    document = json.loads(plan.read_text())
    provider = "urn:pulumi:dev::counter::pulumi:providers:pulumi-python::default"
    document["resourcePlans"][provider] = {
        "goal": {
            "type": "pulumi:providers:pulumi-python",
            "name": "default",
            "custom": True,
            "inputDiff": {},
            "outputDiff": {},
            "protect": False,
            "customTimeouts": {},
        },
        "steps": ["same"],
    }
    plan.write_text(json.dumps(document))

    result = counter.engine(with_b="false").up(plan=plan)

    assert result.ok, result.error


def test_a_saved_plan_says_where_it_went_and_how_to_use_it(
    counter: CounterProject, tmp_path: Path
) -> None:
    """``preview.go``: after the display, `--save-plan` prints where the plan went and the
    `pulumi up --plan` that uses it (a failed preview writes no plan, and says nothing)."""
    plan = tmp_path / "plan.json"

    text = counter.engine(with_b="false").preview(save_plan=plan).render()
    failed = counter.engine(with_b="false", count="-1").preview(save_plan=tmp_path / "no.json")

    assert text.endswith(
        f"Update plan written to '{plan}'\nRun `pulumi up --plan='{plan}'` to constrain the "
        "update to the operations planned by this preview\n"
    )
    assert not failed.ok
    assert "Update plan written" not in failed.render()


def test_a_urn_name_may_hold_the_delimiter() -> None:
    """urn.go's Name is everything after the third `::`; Type the last `$`-joined type."""
    urn = make_urn("dev", "proj", "my:mod:Parent$metal:index:Token", "ops::primary")

    assert urn_name(urn) == "ops::primary"
    assert urn_type(urn) == "metal:index:Token"


def test_a_provider_call_that_never_answers_is_reported_as_the_timeout(
    counter: CounterProject,
) -> None:
    """The run is stopped at `timeout`; the call still in flight then reports only that its
    channel closed, so the timeout, its cause, comes first."""
    engine = TestEngine(
        counter.dir,
        config={"log": str(counter.log), "explode_in": "a", "explode": "hang", "with_b": "false"},
        secret_config={"token": TOKEN},
        state_path=counter.state_path,
        timeout=3,
    )
    began = time.monotonic()
    result = engine.up()
    assert time.monotonic() - began < 60
    assert not result.ok
    assert result.error is not None
    assert result.error.startswith("the program did not finish within 3 s")

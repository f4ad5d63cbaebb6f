"""The paths a stack takes besides preview and up: refresh, import, targets, --replace,
--expect-no-changes, protect, retain_on_delete, ignore_changes, export and the --diff view.

Each test names the engine function it mirrors (pulumi/pulumi v3.259.0). What is real here is
described in test_engine.py.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from pulumi_metal_reset.testing import Secret, TestEngine, assert_secret_only
from tests.wire import SECRET_KEY, SECRET_SIG

from .conftest import TOKEN, CounterProject

pytestmark = pytest.mark.engine

COUNTER = "pulumi-python:dynamic/counter:Counter"
URN_A = f"urn:pulumi:dev::counter::{COUNTER}::a"
URN_B = f"urn:pulumi:dev::counter::counter:index:Group${COUNTER}::b"
URN_C = f"urn:pulumi:dev::counter::{COUNTER}::c"


def _res(counter: CounterProject) -> dict[str, dict[str, Any]]:
    return {r["urn"].split("::")[-1]: r for r in counter.state()["resources"]}


def test_refresh_reads_with_old_inputs_and_outputs_and_keeps_secrets(
    counter: CounterProject,
) -> None:
    """``RefreshStep.Apply``: Read gets the old outputs; no drift is a same; secret-ness comes
    back from the old state (``annotateSecrets``) and ``additionalSecretOutputs``."""
    counter.engine(with_b="false").up()

    result = counter.engine(with_b="false").refresh()

    assert result.ok, result.error
    assert result.kind == "refresh"
    assert result.ops() == {"a": "same"}
    read = next(c for c in counter.calls() if c["call"] == "read")
    assert read["id"] == "a-1"
    assert read["props"]["serial"] == 1.0  # the old outputs
    assert _res(counter)["a"]["outputs"]["password"] == {SECRET_KEY: SECRET_SIG, "value": "pw-1"}
    assert_secret_only(result, "pw-1")


def test_refresh_records_drift_and_a_missing_resource(counter: CounterProject) -> None:
    """Refreshed outputs that the provider's Diff calls different are an ``update``; an empty
    ID is a ``delete`` and leaves the state."""
    counter.engine(with_b="false").up()

    drifted = counter.engine(with_b="false", drift="drifted").refresh()

    assert drifted.ok, drifted.error
    assert drifted.ops() == {"a": "update"}
    assert _res(counter)["a"]["outputs"]["label"] == "drifted"
    assert _res(counter)["a"]["inputs"]["label"] == "one"  # Read returned no inputs

    gone = counter.engine(with_b="false", drift="gone").refresh()

    assert gone.ok, gone.error
    assert gone.ops() == {"a": "delete"}
    assert "a" not in _res(counter)


def test_up_with_refresh_diffs_against_the_refreshed_state(counter: CounterProject) -> None:
    """``up --refresh``: the refresh runs before the program, so the provider's Diff sees the
    refreshed outputs and the drift becomes an update; without it the same run is a same."""
    counter.engine(with_b="false").up()

    plain = counter.engine(with_b="false", drift="drifted").preview()
    refreshed = counter.engine(with_b="false", drift="drifted").preview(refresh=True)
    up = counter.engine(with_b="false", drift="drifted").up(refresh=True)

    assert plain.ops() == {"a": "same"}
    assert refreshed.ops() == {"a": "update"}
    assert up.ok, up.error
    assert up.ops() == {"a": "update"}
    assert counter.mutations()[-1] == ("update", "a")


def test_import_sends_a_read_with_no_state_and_fails_as_the_cli_does(
    counter: CounterProject,
) -> None:
    """``ImportStep.Apply``: Read with the ID only. The dynamic-provider server looks for the
    serialized provider in the (empty) state and fails before any provider code runs."""
    counter.engine().up()

    result = counter.engine().import_resource(COUNTER, "imported", "x-1")

    assert not result.ok
    assert result.kind == "import"
    assert result.error is not None
    assert result.error.rstrip().endswith("KeyError: '__provider'")
    assert result.provider_methods() == ["Configure", "Read"]
    assert [c for c in counter.calls() if c["call"] == "read"] == []
    assert "error: preview failed" in result.render()


def test_targets_leave_untargeted_resources_alone(counter: CounterProject) -> None:
    """``isIncludedInOperation``: an untargeted resource keeps its old state and its provider's
    Check is not called; an untargeted create is skipped; an untargeted removed resource is not
    deleted (``GenerateDeletes`` with targets)."""
    counter.engine().up()
    before = len(counter.calls())

    result = counter.engine(label="two", with_c="true").up(targets=[URN_A])

    assert result.ok, result.error
    assert result.ops() == {"a": "update", "g": "same", "b": "same"}
    checked = {c["name"] for c in counter.calls()[before:] if c["call"] == "check"}
    assert checked == {"a"}
    assert "c" not in _res(counter)
    assert _res(counter)["b"]["outputs"]["source"] == "from-a-1.0"

    counter.engine(with_c="true").up()
    kept = counter.engine().up(targets=[URN_A])

    assert kept.ok, kept.error
    assert "c" in _res(counter)
    assert ("delete", "c") not in counter.mutations()


def test_deleting_a_dependent_of_a_target_needs_it_targeted(counter: CounterProject) -> None:
    """``GenerateDeletes``: a resource that depends on a target may only be deleted when it is
    itself a target; an up stops, deleting nothing."""
    counter.engine().up()

    result = counter.engine(with_b="false").up(targets=[URN_A])

    assert not result.ok
    assert result.error == (
        f"Resource '{URN_B}' will be destroyed but was not specified in --target list.\n"
        "Either include resource in --target list or pass --target-dependents to proceed."
    )
    assert ("delete", "b") not in counter.mutations()
    assert "b" in _res(counter)


def test_an_unknown_target_is_an_error(counter: CounterProject) -> None:
    """``checkTargets``: a target that is in neither the old nor the new state fails the run."""
    counter.engine().up()

    result = counter.engine().preview(targets=[URN_C])

    assert not result.ok
    assert result.error == (
        f"Target '{URN_C}' could not be found in the stack. "
        "Did you forget to escape $ in your shell?"
    )


def test_replace_target_is_replaced_with_a_check_without_olds(counter: CounterProject) -> None:
    """``isTargetedReplace``: Check without old inputs, a replace blamed on ``id``, create
    before delete."""
    counter.engine(with_b="false").up()

    result = counter.engine(with_b="false").up(replace=[URN_A])

    assert result.ok, result.error
    assert result.ops() == {"a": "replace"}
    check = [c for c in counter.calls() if c["call"] == "check"][-1]
    assert check["olds"] == {}
    assert counter.mutations()[1:] == [("create", "a"), ("delete", "a")]


def test_expect_no_changes(counter: CounterProject, tmp_path: Path) -> None:
    """``--expect-no-changes``: a preview with changes fails (and writes no plan); an up
    applies its changes first, then fails, as the CLI does."""
    counter.engine(with_b="false").up()
    plan = tmp_path / "plan.json"

    quiet = counter.engine(with_b="false").preview(expect_no_changes=True)
    noisy = counter.engine(with_b="false", label="two").preview(
        expect_no_changes=True, save_plan=plan
    )
    applied = counter.engine(with_b="false", label="two").up(expect_no_changes=True)

    assert quiet.ok, quiet.error
    assert not noisy.ok
    assert noisy.error == "no changes were expected for preview but changes were proposed"
    assert not plan.exists()
    assert not applied.ok
    assert applied.error == "no changes were expected for update but changes were proposed"
    assert counter.mutations()[-1] == ("update", "a")
    assert (
        applied.render()
        .rstrip()
        .endswith("error: no changes were expected for update but changes were proposed")
    )


def test_protected_resource_is_not_deleted_and_others_are(counter: CounterProject) -> None:
    """``DeleteStep.Apply``: deleting a protected resource fails with the engine's message;
    other deletes go on (``deleteProtectedError`` never cancels); the resource stays."""
    counter.engine(protect="true").up()

    result = counter.engine(protect="true").destroy()

    assert not result.ok
    assert result.error == (
        f'resource "{URN_A}" cannot be deleted\nbecause it is protected. To unprotect the '
        "resource, either remove the `protect` flag from the resource in your Pulumi program and "
        "run `pulumi up`, or use the command:\n"
        f"`pulumi state unprotect '{URN_A}'`"
    )
    assert ("delete", "b") in counter.mutations()
    assert ("delete", "a") not in counter.mutations()
    assert set(_res(counter)) == {"a"}


def test_retain_on_delete_forgets_without_calling_delete(counter: CounterProject) -> None:
    """``DeleteStep.Apply``: a retained resource leaves the state with no provider Delete."""
    counter.engine(retain="true").up()

    result = counter.engine(retain="true").destroy()

    assert result.ok, result.error
    assert ("delete", "a") not in counter.mutations()
    assert counter.state()["resources"] == []


def test_ignore_changes_keeps_the_old_value(counter: CounterProject) -> None:
    """``processIgnoreChanges``: the ignored input keeps its old value before Check, so the
    change is no change at all."""
    counter.engine(ignore="label", with_b="false").up()

    result = counter.engine(ignore="label", label="two", with_b="false").up()

    assert result.ok, result.error
    assert result.ops() == {"a": "same"}
    assert _res(counter)["a"]["inputs"]["label"] == "one"


def test_export_is_the_clis_stack_export(counter: CounterProject, tmp_path: Path) -> None:
    """``apitype.UntypedDeployment`` version 3: resources with urn, custom, id, type, inputs,
    outputs, parent; the default provider; secrets as encrypted-secret objects, withheld."""
    counter.engine(protect="true").up()
    path = tmp_path / "export.json"

    document = counter.engine().export(path)
    shown = counter.engine().export(show_secrets=True)

    assert json.loads(path.read_text()) == document
    assert document["version"] == 3
    resources = {r["urn"].split("::")[-1]: r for r in document["deployment"]["resources"]}
    provider = resources["default"]
    assert provider["type"] == "pulumi:providers:pulumi-python"
    a = resources["a"]
    assert a["custom"] is True
    assert a["id"] == "a-1"
    assert a["protect"] is True
    assert a["provider"] == f"{provider['urn']}::{provider['id']}"
    assert a["parent"] == "urn:pulumi:dev::counter::pulumi:pulumi:Stack::counter-dev"
    assert a["outputs"]["password"] == {
        SECRET_KEY: SECRET_SIG,
        "ciphertext": "test-engine:withheld",
    }
    assert TOKEN not in json.dumps(document)
    shown_a = next(r for r in shown["deployment"]["resources"] if r["urn"].endswith("::a"))
    assert shown_a["outputs"]["password"] == {SECRET_KEY: SECRET_SIG, "plaintext": '"pw-1"'}


def test_diff_view_shows_old_and_new_values(counter: CounterProject) -> None:
    """``pulumi preview --diff``: the changed resource under the stack, ``[id=]``, ``[urn=]``,
    changed properties as ``~ key: old => new``, unchanged ones plain, secrets masked."""
    counter.engine(with_b="false").up()

    result = counter.engine(with_b="false", label="two").preview()
    text = result.render(diff=True)

    assert "    ~ pulumi-python:dynamic/counter:Counter: (update)\n" in text
    assert "        [id=a-1]\n" in text
    assert f"        [urn={URN_A}]\n" in text
    assert '      ~ label: "one" => "two"\n' in text
    assert '        slot : "1"\n' in text  # titles aligned to the longest key shown
    assert "        token: [secret]\n" in text
    assert TOKEN not in text


def test_secret_assertion_finds_clear_values_and_missing_ones(counter: CounterProject) -> None:
    """``assert_secret_only`` fails, naming where, for a value in clear, and for one that is
    nowhere; it passes for the secret password."""
    result = counter.engine(with_b="false").up()

    assert_secret_only(result, "pw-1")
    assert isinstance(result.outputs["a_password"], Secret)
    with pytest.raises(AssertionError, match=r"state a inputs\.label"):
        assert_secret_only(result, "one")
    with pytest.raises(AssertionError, match="nowhere"):
        assert_secret_only(result, "never-seen")


def test_state_defaults_outside_the_source_tree(counter: CounterProject) -> None:
    """Cleartext state never lands in the program's directory unless asked for."""
    engine = TestEngine(
        counter.dir,
        config={"log": str(counter.log), "with_b": "false"},
        secret_config={"token": TOKEN},
    )
    try:
        result = engine.up()
        assert result.ok, result.error
        assert engine.state_path.is_relative_to(Path(tempfile.gettempdir()))
        assert not engine.state_path.is_relative_to(counter.dir)
        assert engine.state_path.stat().st_mode & 0o077 == 0
        assert {p.name for p in counter.dir.iterdir()} <= {
            "Pulumi.yaml",
            "__main__.py",
            "counter_provider.py",
            "__pycache__",
        }
        assert "ResourceState(" in repr(engine.load_state())
        assert "pw-1" not in repr(engine.load_state())
        assert TOKEN not in repr(result)
    finally:
        engine.state_path.unlink(missing_ok=True)

"""What users of the test engine meet beyond the engine's rules: the export, the --diff view,
the secret assertion, where state lives, what an import reports, the plan file's secrets.

The engine's rules themselves are pinned by the scenario list in tests/cli/test_scenarios.py,
which runs on this engine and on the real CLI. What is real here is described in test_engine.py.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from pulumi_metal_reset.testing import Secret, TestEngine, assert_secret_only
from pulumi_metal_reset.testing._deployment import Deployment
from pulumi_metal_reset.testing._records import Goal
from pulumi_metal_reset.testing._state import ResourceState
from tests.counter_log import TOKEN
from tests.wire import SECRET_KEY, SECRET_SIG

from .conftest import CounterProject, raised

pytestmark = pytest.mark.engine

COUNTER = "pulumi-python:dynamic/counter:Counter"
URN_A = f"urn:pulumi:dev::counter::{COUNTER}::a"


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
    assert raised(result.error, "KeyError", "'__provider'")
    assert result.provider_methods() == ["Configure", "Read"]
    assert [c for c in counter.calls() if c["call"] == "read"] == []
    assert "error: preview failed" in result.render()


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


def test_plan_file_secrets_and_config(counter: CounterProject, tmp_path: Path) -> None:
    """With no secrets provider the plan holds secrets as ``--show-secrets`` writes them, and
    secret config as a withheld ``secure`` value."""
    plan = tmp_path / "plan.json"

    assert counter.engine(with_b="false").preview(save_plan=plan).ok
    data = json.loads(plan.read_text())

    assert set(data) == {"manifest", "config", "resourcePlans"}
    token = data["resourcePlans"][URN_A]["goal"]["inputDiff"]["adds"]["token"]
    assert token == {SECRET_KEY: SECRET_SIG, "plaintext": json.dumps(TOKEN)}
    assert data["config"]["counter:token"] == {"secure": "test-engine:withheld"}


def test_the_ledger_lists_what_the_engine_leaves_out_in_the_docstrings_words() -> None:
    """docs/engine-fidelity.md and the engine's docstring say the same about what is left out."""
    import pulumi_metal_reset.testing.engine as engine_module

    docstring = engine_module.__doc__ or ""
    marker = "What the test engine leaves out:"
    in_code = docstring.split(marker, 1)[1].strip()
    ledger = Path(__file__).resolve().parents[2] / "docs" / "engine-fidelity.md"
    in_docs = ledger.read_text().split("## What the test engine leaves out", 1)[1].strip()
    assert in_docs == in_code


def test_policy_seams_see_checked_inputs_and_the_final_state(counter: CounterProject) -> None:
    """The hooks a policy pack plugs into: one after each Check (its returned inputs are used,
    as a remediation's are), one at the end of a run that succeeded."""
    engine = counter.engine(with_b="false")
    seen: list[tuple[str, str]] = []
    finals: list[list[str]] = []

    def remediate(d: Deployment, goal: Goal, urn: str, inputs: dict[str, Any]) -> dict[str, Any]:
        seen.append((urn, str(inputs.get("label"))))
        return {**inputs, "label": "remediated"} if goal.custom else inputs

    def analyze_stack(d: Deployment, resources: list[ResourceState]) -> None:
        finals.append([r.name for r in resources])

    engine.resource_hooks.append(remediate)
    engine.stack_hooks.append(analyze_stack)
    result = engine.up()

    assert result.ok, result.error
    assert (URN_A, "one") in seen
    create = next(c for c in counter.calls() if c["call"] == "create")
    assert create["props"]["label"] == "remediated"
    assert finals == [["counter-dev", "a"]]


def test_a_refused_replace_renders_as_the_cli_does(counter: CounterProject) -> None:
    """As the engine's own lifecycle test output (TestProtect, step 1) shows it: the error under
    the resource, ``preview failed`` under the stack, the replace still counted."""
    counter.engine(protect="true", with_b="false").up()

    text = counter.engine(protect="true", with_b="false", slot="2").preview().render()

    assert (
        "Diagnostics:\n"
        f"  {COUNTER} (a):\n"
        f'    error: unable to replace resource "{URN_A}"\n'
        "    as it is currently marked for protection. To unprotect the resource, remove the "
        "`protect` flag from the resource in your Pulumi program and run `pulumi up`\n"
        "\n"
        "  pulumi:pulumi:Stack (counter-dev):\n"
        "    error: preview failed\n"
        "\n"
        "Resources:\n"
        "    +-1 to replace\n"
        "    1 unchanged\n"
        "    2 errored\n"
    ) in text


def test_every_test_the_ledger_names_exists() -> None:
    """Each ``tests/<folder>/file.py::test``, ``file.py::test`` (a file of tests/engine or
    tests/cli) or ``::test`` after one in docs/engine-fidelity.md is a test."""
    root = Path(__file__).resolve().parents[2]
    ledger = (root / "docs" / "engine-fidelity.md").read_text()
    defined = {
        f"{folder}/{path.name}": set(re.findall(r"^def (test_\w+)", path.read_text(), flags=re.M))
        for folder in ("engine", "cli", "policy", "audit")
        for path in (root / "tests" / folder).glob("test_*.py")
    }
    bare = {key.split("/")[1]: key for key in defined if key.split("/")[0] in ("engine", "cli")}
    missing = []
    current = ""
    named = re.findall(r"`(?:(?:tests/(\w+)/)?(test_\w+\.py))?::(test_\w+)`", ledger)
    for folder, file, name in named:
        if file:
            current = f"{folder}/{file}" if folder else bare.get(file, file)
        if name not in defined.get(current, set()):
            missing.append(f"{current}::{name}")
    assert missing == []
    assert len(named) > 80  # the pattern still finds the names

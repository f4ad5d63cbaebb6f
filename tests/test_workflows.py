"""The GitHub workflows, checked here because no runner can run them on these machines.

- The project's own `.github/workflows/*.yml` and the documented example `docs/ci/*.yml` must
  validate against SchemaStore's GitHub-workflow schema (as vendored in check-jsonschema, offline)
  and pass zizmor's security audits (offline). Two deliberately broken workflows prove both tools
  still find what they are here to find.
- ci.yml runs the three lanes under the real Pulumi CLI.
- The example's rotation guard, a jq script, runs here with real jq on previews in the CLI's
  `preview --json` shape (PreviewDigest and PreviewStep in pulumi/pulumi pkg/display/json.go).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tools.floors import python_floor
from tools.pythons import load

ROOT = Path(__file__).resolve().parents[1]
TOOLS = Path(sys.executable).parent
CI = ROOT / ".github" / "workflows" / "ci.yml"
ROTATION = ROOT / "docs" / "ci" / "rotate-credentials.yml"
WORKFLOWS = sorted(
    [*(ROOT / ".github" / "workflows").glob("*.yml"), *(ROOT / "docs" / "ci").glob("*.yml")]
)
TOKEN_TYPE = "pulumi-python:dynamic/metal:PasswordResetToken"


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def _run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in argv], capture_output=True, text=True, timeout=300, check=False
    )


#: check-jsonschema 0.39 and zizmor 1.32 need Python 3.11; pyproject.toml installs them only
#: there. The floor lane runs on 3.10 and skips them; every other lane runs them, and fails
#: (never skips) where they are missing, so a `make test` on Python 3.10 cannot pass unchecked.
needs_workflow_tools = pytest.mark.skipif(
    os.environ.get("METAL_RESET_FLOOR_LANE") == "1",
    reason="check-jsonschema and zizmor need Python 3.11; the make test lane runs this check",
)


def _check_jsonschema(*paths: Path) -> subprocess.CompletedProcess[str]:
    return _run(TOOLS / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *paths)


def _zizmor(*paths: Path) -> tuple[int, list[dict[str, Any]]]:
    result = _run(
        TOOLS / "zizmor", "--offline", "--no-config", "--no-ignores", "--format", "json", *paths
    )
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return result.returncode, findings


def test_the_workflows_are_found() -> None:
    assert CI in WORKFLOWS
    assert ROTATION in WORKFLOWS


@needs_workflow_tools
@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_matches_schemastore_workflow_schema(path: Path) -> None:
    result = _check_jsonschema(path)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_workflow_tools
@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_zizmor_finds_nothing(path: Path) -> None:
    code, findings = _zizmor(path)
    assert findings == []
    assert code == 0


@needs_workflow_tools
def test_the_checks_still_catch_a_broken_workflow(tmp_path: Path) -> None:
    invalid = tmp_path / "invalid.yml"
    invalid.write_text("on: push\njobs:\n  test:\n    steps:\n      - run: make test\n")
    result = _check_jsonschema(invalid)
    assert result.returncode == 1
    assert "runs-on" in result.stdout

    unsafe = tmp_path / "unsafe.yml"
    unsafe.write_text(
        "name: unsafe\non: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        '      - run: echo "${{ github.event.head_commit.message }}"\n'
    )
    code, findings = _zizmor(unsafe)
    assert code != 0
    assert {f["ident"] for f in findings} >= {
        "artipacked",  # checkout keeps the token in .git/config
        "excessive-permissions",  # no permissions block
        "template-injection",
        "unpinned-uses",
    }


def test_every_action_is_pinned_to_a_commit_and_no_checkout_keeps_credentials() -> None:
    for path in WORKFLOWS:
        workflow = _load(path)
        assert workflow["permissions"] == {}, path
        for job in workflow["jobs"].values():
            assert job["permissions"] == {"contents": "read"}, path
        text = path.read_text()
        for step in _steps(workflow):
            if "uses" not in step:
                continue
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
            assert re.search(re.escape(step["uses"]) + r" # v\d+\.\d+\.\d+\n", text), step["uses"]
            if step["uses"].startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_ci_runs_the_three_lanes_under_the_real_cli_and_requires_every_tool() -> None:
    workflow = _load(CI)
    assert workflow["env"]["METAL_RESET_REQUIRE_SYSTEM_TOOLS"] == "1"
    assert workflow["env"]["METAL_RESET_REQUIRE_PULUMI_CLI"] == "1"
    assert re.fullmatch(r"\d+\.\d+\.\d+", workflow["env"]["PULUMI_CLI_VERSION"])
    lanes = {}
    for name, job in workflow["jobs"].items():
        runs = [step.get("run", "") for step in job["steps"]]
        installs_cli = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
        assert [s["with"] for s in installs_cli] == [
            {"pulumi-version": "${{ env.PULUMI_CLI_VERSION }}"}
        ], name
        assert any("apt-get install" in run and "faketime pass gnupg" in run for run in runs)
        lanes[name] = [run for run in runs if run.startswith("make ")]
    assert sorted(lanes.values()) == [
        ["make test"],
        ["make test-floors"],
        ["make test-newest-python"],
    ]


def test_each_lane_runs_on_its_python_and_the_outer_two_name_their_interpreter() -> None:
    """The floor lane on the floor `make test-floors` picks here (tools/floors.py), the newest
    lane on a Python newer than the `make test` lane's; both named explicitly."""
    workflow = _load(CI)
    pyproject = load(ROOT / "pyproject.toml")
    versions: dict[str, str] = {}
    for job in workflow["jobs"].values():
        steps = job["steps"]
        (setup,) = [s for s in steps if s.get("uses", "").startswith("actions/setup-python@")]
        (lane,) = [s for s in steps if s.get("run", "").startswith("make ")]
        versions[lane["run"]] = setup["with"]["python-version"]
        names = {"make test-floors": "FLOORS_PYTHON", "make test-newest-python": "NEWEST_PYTHON"}
        if lane["run"] in names:
            named = f"${{{{ steps.{setup['id']}.outputs.python-path }}}}"
            assert lane["env"] == {names[lane["run"]]: named}
    assert versions["make test-floors"] == python_floor(pyproject)
    requires = SpecifierSet(pyproject["project"]["requires-python"])
    assert all(requires.contains(version + ".0") for version in versions.values())
    newest, middle = Version(versions["make test-newest-python"]), Version(versions["make test"])
    assert newest > middle


def test_the_example_uses_the_same_cli_and_actions_as_ci() -> None:
    ours, example = _load(CI), _load(ROTATION)
    assert example["env"]["PULUMI_CLI_VERSION"] == ours["env"]["PULUMI_CLI_VERSION"]
    pinned = {step["uses"] for step in _steps(ours) if "uses" in step}
    assert {step["uses"] for step in _steps(example) if "uses" in step} == pinned


def test_the_example_previews_once_then_applies_that_plan_then_audits() -> None:
    workflow = _load(ROTATION)
    (job,) = workflow["jobs"].values()
    pulumi = [
        line.strip()
        for step in job["steps"]
        for line in step.get("run", "").replace("\\\n", " ").splitlines()
        if re.match(r"\s*(if ! )?pulumi (preview|up|stack export)", line)
    ]
    assert len(pulumi) == 3
    preview, up, export = pulumi
    assert "--save-plan" in preview
    assert "--json" in preview
    assert "--expect-no-changes" not in preview
    assert '--plan "$RUNNER_TEMP/plan.json"' in up
    assert "metal-reset audit -" in export
    assert not [command for command in pulumi if "--show-secrets" in command]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["defaults"]["run"]["shell"] == "bash"  # pipefail for export | audit
    due = next(step for step in job["steps"] if step.get("id") == "due")
    apply = next(step for step in job["steps"] if "pulumi up" in step.get("run", ""))
    assert apply["if"] == "steps.due.outputs.due == 'true'"
    secrets = {
        step["name"]: sorted(step.get("env", {}))
        for step in job["steps"]
        if "secrets." in json.dumps(step.get("env", {}))
    }
    assert all(
        "pulumi" in next(s["run"] for s in job["steps"] if s.get("name") == n) for n in secrets
    )
    assert "METAL_AUTH_TOKEN" not in json.dumps(due)


# The guard, run for real -------------------------------------------------------------------


#: A secret input's value as the CLI writes it into a plan file (ciphertext; its key is plain).
CIPHER = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def _step(
    urn_name: str,
    op: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    secret: tuple[str, ...] = ("auth_token",),
) -> Any:
    """One step of `preview --json` (secret inputs shown as "[secret]", as `json.go` masks
    them), with `_plan` holding the plan file's entry for it (`inputDiff` from the values)."""
    urn = f"urn:pulumi:prod::credentials::{TOKEN_TYPE}::{urn_name}"
    step: dict[str, Any] = {"op": op, "urn": urn, "provider": "", "detailedDiff": None}
    for key, inputs in (("oldState", old), ("newState", new)):
        if inputs is not None:
            shown = {k: "[secret]" if k in secret else v for k, v in inputs.items()}
            step[key] = {"urn": urn, "custom": True, "type": TOKEN_TYPE, "inputs": shown}
    before, after = old or {}, new or {}

    def value(key: str) -> Any:
        return CIPHER | {"ciphertext": "v1:..."} if key in secret else after[key]

    diff = {
        "adds": {k: value(k) for k in after if k not in before},
        "deletes": [k for k in before if k not in after],
        "updates": {k: value(k) for k in after if k in before and before[k] != after[k]},
    }
    step["_plan"] = {"goal": {"type": TOKEN_TYPE, "inputDiff": diff}, "steps": [op]}
    return step


def _inputs(slot: str, **more: Any) -> dict[str, Any]:
    return {
        "__provider": "blob-1",
        "auth_token": "[secret]",
        "email": "ops@example.com",
        "rotate_every": "P30D",
        "rotation_slot": slot,
        **more,
    }


def _optioned(
    step: Any, old: dict[str, Any] | None = None, new: dict[str, Any] | None = None
) -> Any:
    """`step` with resource options set on its old or new state, as `preview --json` shows them
    (`apitype.ResourceV3`: a false or empty option is left out)."""
    step["oldState"].update(old or {})
    step["newState"].update(new or {})
    return step


STACK_STEP = {
    "op": "same",
    "urn": "urn:pulumi:prod::credentials::pulumi:pulumi:Stack::credentials-prod",
}
OLD = _inputs("2026-01-01T00:00:00Z")
DUE = _inputs("2026-01-31T00:00:00Z")


@pytest.fixture
def guard(tmp_path: Path) -> Any:
    """Run the example's "Is a rotation due?" step as GitHub would, on a given preview."""
    (step,) = [s for s in _steps(_load(ROTATION)) if s.get("id") == "due"]

    def run(*steps: Any) -> tuple[subprocess.CompletedProcess[str], str, str]:
        shown = [{k: v for k, v in step.items() if k != "_plan"} for step in steps]
        (tmp_path / "preview.json").write_text(
            json.dumps({"steps": [STACK_STEP, *shown], "changeSummary": {}})
        )
        plans = {step["urn"]: step["_plan"] for step in steps if "_plan" in step}
        (tmp_path / "plan.json").write_text(json.dumps({"resourcePlans": plans}))
        output, summary = tmp_path / "output", tmp_path / "summary"
        output.write_text("")
        summary.write_text("")
        environ = {
            "PATH": os.environ["PATH"],
            "RUNNER_TEMP": str(tmp_path),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "TOKEN_TYPE": _load(ROTATION)["env"]["TOKEN_TYPE"],
        }
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return result, output.read_text(), summary.read_text()

    return run


@pytest.mark.jq
def test_guard_nothing_due(guard: Any) -> None:
    result, output, summary = guard()
    assert result.returncode == 0, result.stderr
    assert output == "due=false\n"
    assert summary == "No rotation is due.\n"


@pytest.mark.jq
def test_guard_due_rotations_go_on(guard: Any) -> None:
    result, output, summary = guard(
        _step("ops", "update", OLD, DUE),
        _step("billing", "update", OLD | {"__provider": "blob-0"}, DUE),  # a new blob alone
        _step("audit", "same", OLD, OLD),  # an unchanged token
        # a password waiting in state for its sink: an update that changes no input
        _step("waiting", "update", OLD, OLD),
        # what the engine records by itself differs, options alike (dependencies in another
        # order: the engine builds them from sets): still a due rotation
        _optioned(
            _step("kept", "update", OLD, DUE),
            old={
                "protect": True,
                "id": "1",
                "modified": "2026-01-01T00:00:00Z",
                "outputs": {},
                "dependencies": ["urn:a", "urn:b"],
                "propertyDependencies": {"email": ["urn:a", "urn:b"]},
            },
            new={
                "protect": True,
                "sourcePosition": "project:///__main__.py#9",
                "dependencies": ["urn:b", "urn:a"],
                "propertyDependencies": {"email": ["urn:b", "urn:a"]},
            },
        ),
    )
    assert result.returncode == 0, result.stderr
    assert output == "due=true\n"
    assert summary.splitlines() == [
        "Applying due rotations:",
        f"- urn:pulumi:prod::credentials::{TOKEN_TYPE}::ops",
        f"- urn:pulumi:prod::credentials::{TOKEN_TYPE}::billing",
        f"- urn:pulumi:prod::credentials::{TOKEN_TYPE}::waiting (a redelivery: no rotation)",
        f"- urn:pulumi:prod::credentials::{TOKEN_TYPE}::kept",
    ]


@pytest.mark.jq
@pytest.mark.parametrize(
    ("step", "says"),
    [
        (_step("ops", "update", OLD, DUE | {"email": "new@example.com"}), "(email, rotation_slot)"),
        (
            _step("ops", "update", OLD, OLD | {"rotation_triggers": {"t": "2"}}),
            "(rotation_triggers)",
        ),
        (
            _step(
                "ops", "update", OLD, DUE | {"email": "new@example.com"}, ("auth_token", "email")
            ),
            "(email, rotation_slot)",
        ),
        (
            _step(
                "ops",
                "update",
                OLD | {"rotation_triggers": {"t": "1"}},
                DUE | {"rotation_triggers": {"t": "2"}},
                ("auth_token", "rotation_triggers"),
            ),
            "(rotation_slot, rotation_triggers)",
        ),
        ({**_step("ops", "update", OLD, DUE), "_plan": {}}, "(an input the plan does not show)"),
        (
            # the provider calls a changed endpoint no change: a same whose inputs changed
            _step("ops", "same", OLD, OLD | {"api_url": "https://metal.example.net/metal/v1"}),
            "same urn:",
        ),
        (_step("ops", "update", OLD | {"deliver_to": "file"}, DUE), "(deliver_to, rotation_slot)"),
        (_optioned(_step("ops", "same", OLD, OLD), old={"protect": True}), "(option protect)"),
        (
            _optioned(_step("ops", "update", OLD, DUE), new={"retainOnDelete": True}),
            "(option retainOnDelete, rotation_slot)",
        ),
        (
            _optioned(
                _step("ops", "same", OLD, OLD), old={"dependencies": ["urn:a"]}, new={"parent": "p"}
            ),
            "(option dependencies, option parent)",
        ),
        (_step("ops", "create", None, DUE), "create urn:"),
        (_step("ops", "replace", OLD, DUE), "replace urn:"),
        (_step("ops", "delete", OLD, None), "delete urn:"),
        (
            {
                **_step("ops", "update", OLD, DUE),
                "newState": {"type": "aws:s3/bucket:Bucket", "inputs": DUE},
            },
            "update urn:",
        ),
    ],
    ids=[
        "email",
        "trigger",
        "secret-email",
        "secret-trigger",
        "not-in-the-plan",
        "same-with-changed-inputs",
        "deleted-input",
        "same-with-protect-dropped",
        "due-with-retain-added",
        "same-with-options-changed",
        "create",
        "replace",
        "delete",
        "other-type",
    ],
)
def test_guard_refuses_anything_but_due_rotations(guard: Any, step: Any, says: str) -> None:
    result, output, summary = guard(_step("fine", "update", OLD, DUE), step)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "The preview holds changes that are not due rotations; deploy them through review first:"
    )
    assert len(lines) == 2
    assert says in lines[1]
    assert output == ""
    assert summary == ""


def test_the_docs_point_at_the_checked_example() -> None:
    text = (ROOT / "docs" / "ci.md").read_text()
    assert "](ci/rotate-credentials.yml)" in text
    assert "PULUMI_CONFIG_PASSPHRASE" in text
    assert "PULUMI_ACCESS_TOKEN" in text
    assert "](docs/ci.md)" in (ROOT / "README.md").read_text()

"""Every Pulumi.yaml against Pulumi's project schema, plus the facts the schema cannot check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "tests" / "reference" / "pulumi-project.schema.json").read_text())
PROJECTS = sorted(
    p for p in ROOT.glob("**/Pulumi.yaml") if not any(part.startswith(".venv") for part in p.parts)
)


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def test_every_example_and_the_root_are_projects() -> None:
    names = {p.parent.relative_to(ROOT).as_posix() for p in PROJECTS}
    assert {
        ".",
        "examples/quickstart",
        "examples/scheduled-rotation",
        "examples/consume-secret",
    } <= names


@pytest.mark.parametrize("path", PROJECTS, ids=lambda p: p.parent.relative_to(ROOT).as_posix())
def test_matches_pulumi_project_schema(path: Path) -> None:
    jsonschema.validate(_load(path), SCHEMA)


@pytest.mark.parametrize("path", PROJECTS, ids=lambda p: p.parent.relative_to(ROOT).as_posix())
def test_program_exists_and_runtime_is_python(path: Path) -> None:
    project = _load(path)
    runtime = project["runtime"]
    assert (runtime if isinstance(runtime, str) else runtime["name"]) == "python"
    main = path.parent / project.get("main", ".")
    program = main / "__main__.py" if main.is_dir() else main
    assert program.is_file(), program
    options = runtime.get("options", {}) if isinstance(runtime, dict) else {}
    # pulumi/pulumi#7061: a relative virtualenv with `main:` in a subfolder breaks the shim.
    assert not ("main" in project and "virtualenv" in options)
    if path.parent.parent.name == "examples":
        assert (path.parent / "README.md").is_file()


def test_root_runs_the_quickstart_under_the_same_name() -> None:
    root, quickstart = _load(ROOT / "Pulumi.yaml"), _load(ROOT / "examples/quickstart/Pulumi.yaml")
    assert root["main"].rstrip("/") == "examples/quickstart"
    assert root["name"] == quickstart["name"]


def test_demo_stack_config_uses_the_project_namespace_and_the_emulator() -> None:
    config = _load(ROOT / "Pulumi.demo.yaml")["config"]
    name = _load(ROOT / "Pulumi.yaml")["name"]
    for key in config:
        assert key.split(":")[0] in ("equinix", name), key
    assert config["equinix:endpoint"].startswith("http://127.0.0.1:")

"""What a user installs: the declared extras cover what the shipped modules import, the licence
is the one pyproject names, and the changelog, README and version agree."""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata as metadata
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import pulumi_metal_reset

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pulumi_metal_reset"
DIST = "pulumi-metal-reset"
#: SHA-256 of the Apache License 2.0 text as apache.org publishes it (LICENSE-2.0.txt).
APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"


def _requirements(dist: str, extra: str | None = None) -> set[str]:
    """Distribution names `dist` requires, with `extra` selected (None: the base set only)."""
    names: set[str] = set()
    for text in metadata.requires(dist) or []:
        requirement = Requirement(text)
        environment = {"extra": extra or ""}
        if requirement.marker is None or requirement.marker.evaluate(environment):
            names.add(canonicalize_name(requirement.name))
    return names


def _third_party_imports(folder: Path, *, leave_out: str = "") -> set[str]:
    """Top-level modules imported by the files under `folder`, but for its `leave_out` folder."""
    tops: set[str] = set()
    for path in folder.rglob("*.py"):
        if leave_out and path.relative_to(folder).parts[0] == leave_out:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                tops.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                tops.add(node.module.split(".")[0])
    return {t for t in tops if t not in sys.stdlib_module_names and t != PACKAGE.name}


def _owners() -> dict[str, set[str]]:
    """Import name -> distributions, from `top_level.txt` and from each one's package folders.

    On Python 3.10 `packages_distributions()` reads `top_level.txt` only, which protobuf's wheel
    lacks, so `google` would look undeclared there; 3.11 also infers names from the files.
    """
    owners: dict[str, set[str]] = {}
    for top, names in metadata.packages_distributions().items():
        owners.setdefault(top, set()).update(names)
    for dist in metadata.distributions():
        for file in dist.files or []:
            if file.suffix == ".py" and len(file.parts) > 1:
                owners.setdefault(file.parts[0], set()).add(dist.metadata["Name"])
    return owners


def test_the_testing_extra_covers_what_the_testing_package_imports() -> None:
    """`pulumi_metal_reset.testing` ships in the wheel; `[testing]` must make it importable."""
    declared = _requirements(DIST, "testing") | {"pulumi"}
    declared |= _requirements("pulumi")  # grpcio, pyyaml, protobuf, dill come with pulumi
    owners = _owners()
    imports = _third_party_imports(PACKAGE / "testing")
    assert "pytest" in imports  # the fixtures: the reason the extra exists
    for top in sorted(imports):
        dists = {canonicalize_name(d) for d in owners.get(top, [])}
        assert dists & declared, f"testing imports {top} ({dists}), declared by no requirement"
    assert "pytest" in _requirements(DIST, "testing") - _requirements(DIST)


def test_the_dependencies_cover_what_the_package_imports() -> None:
    """Every third-party module the package imports outside `testing` is a declared runtime
    dependency, so `make test-floors` holds it at its floor. pydantic-core is the exception
    that keeps the rule: each pydantic release pins one pydantic-core exactly."""
    declared = _requirements(DIST) | {"pydantic-core"}
    owners = _owners()
    imports = _third_party_imports(PACKAGE, leave_out="testing")
    assert {"requests", "pydantic_core", "email_validator"} <= imports
    for top in sorted(imports):
        dists = {canonicalize_name(d) for d in owners.get(top, [])}
        assert dists & declared, f"the package imports {top} ({dists}), declared by no dependency"


def test_the_fixtures_name_the_extra_when_pytest_is_missing() -> None:
    import subprocess

    code = "import sys; sys.modules['pytest'] = None; import pulumi_metal_reset.testing.fixtures"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "ImportError: pulumi_metal_reset.testing.fixtures needs pytest, which this package "
        "installs only with its testing extra; run pip install 'pulumi-metal-reset[testing]'."
    )


def test_license_is_the_apache_2_text_pyproject_names() -> None:
    assert metadata.metadata(DIST)["License"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_bytes()
    assert hashlib.sha256(text).hexdigest() == APACHE_2_SHA256


def test_one_version_everywhere() -> None:
    version = pulumi_metal_reset.__version__
    assert metadata.version(DIST) == version
    changelog = (ROOT / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## \[([^\]]+)\]", changelog, flags=re.MULTILINE)
    assert releases[0] == "Unreleased"
    assert releases[1] == version  # the latest release is the installed version
    assert releases[-1] == "0.1.0"  # the changelog starts at the first release


@pytest.mark.parametrize(
    "text",
    [
        "pip install 'pulumi-metal-reset[testing]'",
        "pulumi_metal_reset.provider.PasswordResetTokenProvider",
        "pulumi-python:dynamic/metal:PasswordResetToken",
    ],
)
def test_readme_states_it(text: str) -> None:
    assert text in (ROOT / "README.md").read_text()


def test_the_pickled_provider_path_the_readme_names_is_real() -> None:
    """(The type token is pinned by the engine tests, which read it from real state.)"""
    from pulumi_metal_reset.provider import PasswordResetTokenProvider as Provider

    path = f"{Provider.__module__}.{Provider.__qualname__}"
    assert path == "pulumi_metal_reset.provider.PasswordResetTokenProvider"

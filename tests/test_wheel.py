"""The wheel a user installs, built here by the project's own build backend: every module and
data file of the package is in it and nothing else is, its metadata declares what pyproject
does, and the package runs from it. The suite itself runs on an editable install, which would
hide a module or a data file the wheel leaves out."""

from __future__ import annotations

import email
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tools.pythons import load

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pulumi_metal_reset"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"),
            *("--no-build-isolation", "--wheel-dir", str(out), str(ROOT)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = out.glob("pulumi_metal_reset-*.whl")
    return wheel


def _shipped() -> set[str]:
    """What the package is made of: its modules and its data, not what a run leaves behind."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_the_wheel_holds_the_package_and_nothing_else(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    dist_info = {n for n in names if n.split("/")[0].endswith(".dist-info")}
    assert names - dist_info == _shipped()
    assert "pulumi_metal_reset/py.typed" in names
    assert {
        "pulumi_metal_reset/emulator/__main__.py",
        "pulumi_metal_reset/testing/fixtures.py",
    } <= names


def test_the_wheel_metadata_declares_what_pyproject_does(wheel: Path) -> None:
    project = load(ROOT / "pyproject.toml")["project"]
    with zipfile.ZipFile(wheel) as archive:
        (meta_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        meta = email.message_from_bytes(archive.read(meta_name))
        entry_points = archive.read(meta_name.replace("METADATA", "entry_points.txt")).decode()
    assert meta["Name"] == project["name"]
    assert meta["Version"] == project["version"]
    assert meta["Requires-Python"] == project["requires-python"]
    base = {str(Requirement(r)) for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r}
    assert base == {str(Requirement(r)) for r in project["dependencies"]}
    extras = set(meta.get_all("Provides-Extra") or [])
    assert extras == set(project["optional-dependencies"])
    assert "metal-reset = pulumi_metal_reset.cli:main" in entry_points


def test_the_package_runs_from_the_wheel(wheel: Path, tmp_path: Path) -> None:
    """Unpacked ahead of the editable install on the path, it alone is imported: the provider,
    the emulator, the test engine, the audit and delivery load, and the emulator's and the
    audit's commands answer."""
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    env = {"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"}
    probe = (
        "import pulumi_metal_reset as p, pulumi_metal_reset.provider, pulumi_metal_reset.client, "
        "pulumi_metal_reset.emulator.server, pulumi_metal_reset.testing.engine, "
        "pulumi_metal_reset.audit.command, pulumi_metal_reset.delivery.sinks; print(p.__file__)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert loaded.returncode == 0, loaded.stderr
    assert Path(loaded.stdout.strip()).is_relative_to(unpacked)
    for module, args in (
        ("pulumi_metal_reset.emulator", ["--help"]),
        ("pulumi_metal_reset", ["audit", "--help"]),
    ):
        ran = subprocess.run(
            [sys.executable, "-m", module, *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert ran.returncode == 0, ran.stderr
        assert "usage:" in ran.stdout

"""System-tool markers: a missing Debian package skips its tests, or fails them where required."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_system_tools, system_tool_verdict

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def nothing_installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pass, gpg, gpg-agent, jq, openssl or pulumi
    monkeypatch.setenv("LIBFAKETIME_PATH", str(tmp_path / "missing.so"))


@pytest.mark.usefixtures("nothing_installed")
@pytest.mark.parametrize("marker", ["faketime", "secret_store", "jq", "openssl", "cli"])
def test_missing_tools_skip_with_the_reason(marker: str) -> None:
    verdict = system_tool_verdict({marker}, {})
    assert verdict is not None
    outcome, reason = verdict
    assert outcome == "skip"
    assert "is not installed, and" in reason
    assert "; install " in reason


@pytest.mark.usefixtures("nothing_installed")
@pytest.mark.parametrize(
    ("marker", "install"),
    [
        ("faketime", "install Debian's faketime (make test does, as root)."),
        ("secret_store", "install Debian's pass gnupg (make test does, as root)."),
        ("openssl", "install Debian's openssl (as root: apt-get install openssl)."),
    ],
)
def test_the_ci_flag_turns_every_missing_tool_into_a_failure(marker: str, install: str) -> None:
    verdict = system_tool_verdict({marker}, {"METAL_RESET_REQUIRE_SYSTEM_TOOLS": "1"})
    assert verdict is not None
    outcome, reason = verdict
    assert outcome == "fail"
    assert "METAL_RESET_REQUIRE_SYSTEM_TOOLS=1" in reason
    assert reason.endswith(install)


@pytest.mark.usefixtures("nothing_installed")
def test_only_the_workflow_flag_requires_the_pulumi_cli() -> None:
    """.ci/run's machines have no CLI: the system-tools flag leaves the CLI tests skipped."""
    skipped = system_tool_verdict({"cli"}, {"METAL_RESET_REQUIRE_SYSTEM_TOOLS": "1"})
    assert skipped is not None
    assert skipped[0] == "skip"
    assert system_tool_verdict({"cli"}, {"METAL_RESET_REQUIRE_PULUMI_CLI": "1"}) == (
        "fail",
        "the Pulumi CLI (`pulumi`) is required here (METAL_RESET_REQUIRE_PULUMI_CLI=1) but not "
        "installed, and these tests run the real Pulumi engine; install the Pulumi CLI (the "
        "GitHub workflow does, with pulumi/actions).",
    )


@pytest.mark.usefixtures("nothing_installed")
def test_the_older_faketime_flag_still_requires_libfaketime_and_openssl_only() -> None:
    environ = {"METAL_RESET_REQUIRE_FAKETIME": "1"}
    assert system_tool_verdict({"faketime"}, environ) == (
        "fail",
        "libfaketime is required here (METAL_RESET_REQUIRE_FAKETIME=1) but not installed, and the "
        "schedule tests move the provider's clock with it; install Debian's faketime (make test "
        "does, as root).",
    )
    assert system_tool_verdict({"openssl"}, environ) == (
        "fail",
        "openssl is required here (METAL_RESET_REQUIRE_FAKETIME=1) but not installed, and the "
        "documented fingerprint recipe runs in it; install Debian's openssl (as root: apt-get "
        "install openssl).",
    )
    secret_store = system_tool_verdict({"secret_store"}, environ)
    assert secret_store is not None
    assert secret_store[0] == "skip"
    assert secret_store[1].startswith("pass, gpg, gpg-agent is not installed")


@pytest.mark.usefixtures("nothing_installed")
def test_a_fixture_applies_the_same_verdict_to_the_running_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`require_system_tools`, which the marker hook and the `pass` store fixtures call."""
    for flag in ("METAL_RESET_REQUIRE_SYSTEM_TOOLS", "METAL_RESET_REQUIRE_FAKETIME"):
        monkeypatch.delenv(flag, raising=False)
    require_system_tools(set())
    with pytest.raises(pytest.skip.Exception, match=r"^openssl is not installed, and"):
        require_system_tools({"openssl"})
    monkeypatch.setenv("METAL_RESET_REQUIRE_SYSTEM_TOOLS", "1")
    with pytest.raises(pytest.fail.Exception, match=r"\(METAL_RESET_REQUIRE_SYSTEM_TOOLS=1\)"):
        require_system_tools({"openssl"})


@pytest.mark.usefixtures("nothing_installed")
def test_unmarked_tests_run_whatever_is_missing() -> None:
    assert system_tool_verdict(set(), {"METAL_RESET_REQUIRE_SYSTEM_TOOLS": "1"}) is None


def test_present_tools_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for command in ("pass", "gpg", "gpg-agent", "jq", "openssl", "pulumi"):
        stand_in = tmp_path / command
        stand_in.write_text("#!/bin/sh\n")
        stand_in.chmod(0o755)
    library = tmp_path / "libfaketimeMT.so.1"
    library.write_bytes(b"")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("LIBFAKETIME_PATH", str(library))
    environ = {"METAL_RESET_REQUIRE_SYSTEM_TOOLS": "1"}
    environ["METAL_RESET_REQUIRE_PULUMI_CLI"] = "1"
    markers = {"faketime", "secret_store", "jq", "openssl", "cli"}
    assert system_tool_verdict(markers, environ) is None


def test_a_required_cli_fails_even_where_the_module_would_skip(tmp_path: Path) -> None:
    """The hook runs before a module's own `skipif(no pulumi)`, as tests/cli has."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    (tmp_path / "tests" / "test_needs_cli.py").write_text(
        "import shutil\n"
        "import pytest\n"
        "pytestmark = [pytest.mark.cli, pytest.mark.skipif(shutil.which('pulumi') is None,"
        " reason='no pulumi')]\n"
        "def test_cli():\n"
        "    pass\n"
    )
    environ = {
        "PATH": str(tmp_path),
        "METAL_RESET_REQUIRE_PULUMI_CLI": "1",
        "PYTHONPATH": str(ROOT),
    }
    run = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "cli"]
    run += ["-o", "markers=cli", "-o", "addopts=", "tests"]
    result = subprocess.run(
        run, cwd=tmp_path, env=environ, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1, result.stdout
    assert "METAL_RESET_REQUIRE_PULUMI_CLI=1" in result.stdout
    assert "1 error" in result.stdout  # failed in setup, before any skipif


def test_the_install_script_fails_a_required_missing_tool_with_one_sentence(
    tmp_path: Path,
) -> None:
    """tools/system-tools.sh as `make test` runs it, on a PATH where nothing can be installed."""
    for command in ("sh", "id"):
        found = next(
            Path(d) / command
            for d in os.environ["PATH"].split(os.pathsep)
            if (Path(d) / command).exists()
        )
        (tmp_path / command).symlink_to(found)
    environ = {
        "PATH": str(tmp_path),
        "LIBFAKETIME_PATH": str(tmp_path / "missing.so"),
        "METAL_RESET_REQUIRE_SYSTEM_TOOLS": "1",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [str(tmp_path / "sh"), str(ROOT / "tools" / "system-tools.sh"), sys.executable],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"system tools: {package} is required here but missing; install Debian's {package} "
        f"(as root: apt-get install {package})."
        for package in ("faketime", "pass", "gnupg", "jq", "openssl")
    ]

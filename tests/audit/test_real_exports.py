"""`metal-reset audit` (the console script, as a subprocess) on stacks exported by the test engine.

Three stacks of one program (tests/engine/programs/review, project `infra`), created through the
test engine against the emulator with the provider's clock at noon on 2030-01-01 (libfaketime),
all on the emulator's one API token, exported with `export()` (version 3, secrets as ciphertext)
and `export(show_secrets=True)` (plaintext):

- `dev`: a 30-day schedule, rotated on create (due again 2030-01-31), a secret trigger value;
- `prod`: a 365-day schedule, never rotated;
- `qa`: no schedule and no trigger, never rotated.

The audit runs with its own clock moved by libfaketime, as a scheduled CI job would run later.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pulumi_metal_reset.audit.fields import AUDITED, TokenState
from pulumi_metal_reset.emulator import DEV_TOKEN, DEV_USER, Emulator
from pulumi_metal_reset.state import OUTPUT_NAMES, CheckedInputs
from pulumi_metal_reset.testing import TestEngine
from pulumi_metal_reset.testing.faketime import faketime_env

pytestmark = [pytest.mark.engine, pytest.mark.faketime]

PROGRAM = Path(__file__).resolve().parents[1] / "engine" / "programs" / "review"
RELEASE_KEY = "release-CANARY-4c2b"

STACKS: dict[str, dict[str, str]] = {
    "dev": {"rotateEvery": "30d", "rotateOnCreate": "true"},
    "prod": {"rotateEvery": "365d"},
    "qa": {"ticket": ""},
}
#: Secret config per stack: dev's second trigger holds a secret value.
SECRETS: dict[str, dict[str, str]] = {"dev": {"releaseKey": RELEASE_KEY}}


@dataclass(frozen=True)
class Exports:
    ciphertext: dict[str, Path]
    plaintext: dict[str, Path]
    password: str


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Exports:
    root = tmp_path_factory.mktemp("exports")
    program = root / "review"
    shutil.copytree(PROGRAM, program, ignore=shutil.ignore_patterns("__pycache__"))
    ciphertext, plaintext = {}, {}
    saved = {
        k: os.environ.pop(k)
        for k in ("METAL_AUTH_TOKEN", "EQUINIX_API_ENDPOINT")
        if k in os.environ
    }
    try:
        with Emulator() as emulator:
            for stack, config in STACKS.items():
                engine = TestEngine(
                    program,
                    stack=stack,
                    config={"equinix:endpoint": emulator.url, **config},
                    secret_config={"equinix:authToken": DEV_TOKEN, **SECRETS.get(stack, {})},
                    state_path=root / f"{stack}.state.json",
                    provider_env=faketime_env("@2030-01-01 12:00:00"),
                )
                result = engine.up()
                assert result.ok, result.error
                ciphertext[stack] = root / f"{stack}.json"
                plaintext[stack] = root / f"{stack}.show-secrets.json"
                engine.export(ciphertext[stack])
                engine.export(plaintext[stack], show_secrets=True)
            password = emulator.password_of(DEV_USER)
    finally:
        os.environ.update(saved)
    assert password is not None
    return Exports(ciphertext, plaintext, password)


@dataclass(frozen=True)
class Audit:
    code: int
    out: str
    err: str

    def findings(self) -> list[tuple[str, str, str]]:
        found = json.loads(self.out)
        return sorted((f["stack"], f["urn"].rsplit("::", 1)[-1], f["kind"]) for f in found)


def audit(*args: str | Path, at: str | None = None, stdin: str | None = None) -> Audit:
    """Run the `metal-reset` console script, its clock moved to `at` (UTC) by libfaketime."""
    assert at is None or re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", at), (
        "faketime needs a full time"
    )
    script = Path(sys.executable).parent / "metal-reset"
    env: Mapping[str, str] = {**os.environ, **(faketime_env(f"@{at}") if at else {})}
    proc = subprocess.run(
        [str(script), "audit", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    return Audit(proc.returncode, proc.stdout, proc.stderr)


def test_each_finding_kind_appears_where_it_should(exports: Exports) -> None:
    files = [exports.plaintext[s] for s in STACKS]

    result = audit(*files, "--json", "--require-write-only", at="2030-05-01 00:00:00")

    assert result.code == 1, result.err
    assert result.findings() == [
        ("dev", "admin", "overdue"),
        ("dev", "admin", "password-in-state"),
        ("dev", "admin", "shared-api-user"),
        ("prod", "admin", "never-rotated"),
        ("prod", "admin", "password-in-state"),
        ("prod", "admin", "period-too-long"),
        ("prod", "admin", "shared-api-user"),
        ("qa", "admin", "never-rotated"),
        ("qa", "admin", "no-schedule-no-triggers"),
        ("qa", "admin", "password-in-state"),
        ("qa", "admin", "shared-api-user"),
    ]
    messages = {(f["stack"], f["kind"]): f["message"] for f in json.loads(result.out)}
    assert messages[("dev", "overdue")].startswith(
        "The scheduled rotation (2030-01-31T00:00:00Z) is 90 days overdue;"
    )
    assert messages[("prod", "period-too-long")].startswith(
        "rotate_every is 365 days, longer than the maximum age of 90 days;"
    )
    assert "admin (infra/prod), admin (infra/qa)" in messages[("dev", "shared-api-user")]


def test_password_in_state_only_when_asked(exports: Exports) -> None:
    result = audit(exports.ciphertext["dev"], "--json", at="2030-01-02 00:00:00")

    assert (result.code, result.findings()) == (0, [])
    asked = audit(
        exports.ciphertext["dev"], "--json", "--require-write-only", at="2030-01-02 00:00:00"
    )
    assert asked.findings() == [("dev", "admin", "password-in-state")]


def test_overdue_follows_the_clock_and_the_grace(exports: Exports) -> None:
    """Due at 2030-01-31T00:00Z: clean the day before, overdue the day after, unless the grace
    covers it. A clean audit exits 0 with one line."""
    dev = exports.ciphertext["dev"]

    before = audit(dev, at="2030-01-30 12:00:00")
    after = audit(dev, at="2030-02-01 12:00:00")
    graced = audit(dev, "--grace", "2d", at="2030-02-01 12:00:00")

    assert (before.code, before.out) == (
        0,
        "No findings on 1 PasswordResetToken resource in 1 stack.\n",
    )
    assert after.code == 1
    assert (
        "admin     overdue  The scheduled rotation (2030-01-31T00:00:00Z) is 1 day overdue;"
        in after.out
    )
    assert after.out.endswith("1 finding on 1 of 1 PasswordResetToken resource in 1 stack.\n")
    assert graced.code == 0


def test_shared_api_user_needs_two_stacks_of_one_user(exports: Exports) -> None:
    one = audit(exports.ciphertext["prod"], "--json", at="2030-01-02 00:00:00")
    two = audit(
        exports.ciphertext["prod"], exports.ciphertext["dev"], "--json", at="2030-01-02 00:00:00"
    )

    assert ("prod", "admin", "shared-api-user") not in one.findings()
    assert [f for f in two.findings() if f[2] == "shared-api-user"] == [
        ("dev", "admin", "shared-api-user"),
        ("prod", "admin", "shared-api-user"),
    ]


def test_nothing_secret_is_printed_even_from_a_show_secrets_export(exports: Exports) -> None:
    files = [exports.plaintext[s] for s in STACKS]
    held = "".join(path.read_text() for path in files)
    assert exports.password in held  # the exports do hold the secrets
    assert RELEASE_KEY in held

    table = audit(*files, "--require-write-only", at="2030-05-01 00:00:00")
    as_json = audit(*files, "--json", "--require-write-only", at="2030-05-01 00:00:00")
    piped = audit(
        "-", "--json", stdin=exports.plaintext["dev"].read_text(), at="2030-05-01 00:00:00"
    )

    for result in (table, as_json, piped):
        assert result.code == 1
        for secret in (exports.password, RELEASE_KEY, DEV_TOKEN):
            assert secret not in result.out + result.err


def test_ciphertext_and_plaintext_exports_give_the_same_findings(exports: Exports) -> None:
    kinds = [
        audit(
            *paths.values(), "--json", "--require-write-only", at="2030-05-01 00:00:00"
        ).findings()
        for paths in (exports.ciphertext, exports.plaintext)
    ]
    assert kinds[0] == kinds[1]


def test_an_export_cut_short_exits_2_with_one_sentence(exports: Exports, tmp_path: Path) -> None:
    cut = tmp_path / "cut.json"
    text = exports.ciphertext["dev"].read_text()
    cut.write_text(text[: len(text) // 2])

    result = audit(exports.ciphertext["prod"], cut)

    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith(f"metal-reset audit: {cut} is not JSON (line ")
    assert result.err.count("\n") == 1


def test_the_exports_are_the_clis_version_3(exports: Exports) -> None:
    document: dict[str, Any] = json.loads(exports.ciphertext["dev"].read_text())
    assert document["version"] == 3
    types = [r["type"] for r in document["deployment"]["resources"]]
    assert types.count("pulumi-python:dynamic/metal:PasswordResetToken") == 1


def test_the_audit_reads_the_fields_the_typed_state_defines() -> None:
    """`audit/fields.py` looks each field up in `pulumi_metal_reset.state`."""
    checked = {name for name in CheckedInputs.__dataclass_fields__}
    assert set(AUDITED) == set(TokenState.__dataclass_fields__) - {"resource", "source"}
    assert set(AUDITED) <= set(OUTPUT_NAMES) | checked

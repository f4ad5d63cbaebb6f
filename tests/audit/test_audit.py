"""`metal-reset audit` over hand-written exports in the CLI's format (`exports/`):

- prod-v3-ciphertext.json: version 3, secrets as ciphertext; tokens `healthy`, `late` (overdue),
  `yearly` (365-day period), `static` (no schedule, no triggers, never rotated);
- staging-v4-plaintext.json: version 4 with a `features` list, written with `--show-secrets`
  (plaintext secrets holding canaries); `shared` uses prod/healthy's API user, `hidden-period`
  keeps a 400-day period as a secret, `write-only` has store_password false;
- foreign-only.json: no PasswordResetToken (an S3 bucket with look-alike fields);
- empty-stack.json: a stack with no resources.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pulumi_metal_reset.cli import main

EXPORTS = Path(__file__).parent / "exports"
PROD = str(EXPORTS / "prod-v3-ciphertext.json")
STAGING = str(EXPORTS / "staging-v4-plaintext.json")
FOREIGN = str(EXPORTS / "foreign-only.json")
EMPTY = str(EXPORTS / "empty-stack.json")
NOW = "2026-01-20T00:00:00Z"
TOKEN = "pulumi-python:dynamic/metal:PasswordResetToken"
CANARIES = ("api-token-CANARY", "password-CANARY", "trigger-CANARY", "P400D", "400 days")

FINDINGS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["stack", "project", "urn", "kind", "message", "source"],
        "properties": {
            "stack": {"type": "string", "minLength": 1},
            "project": {"type": "string", "minLength": 1},
            "urn": {"type": "string", "pattern": "^urn:pulumi:"},
            "kind": {
                "enum": [
                    "overdue",
                    "never-rotated",
                    "no-schedule-no-triggers",
                    "period-too-long",
                    "password-in-state",
                    "delivery-pending",
                    "interrupted",
                    "secret-in-clear",
                    "shared-api-user",
                    "unreadable-value",
                ]
            },
            "message": {"type": "string", "pattern": "^[^\\n]+\\.$"},
            "source": {"type": "string"},
        },
    },
}


def urn(stack: str, name: str) -> str:
    return f"urn:pulumi:{stack}::acme::{TOKEN}::{name}"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["audit", "--now", NOW, *args])
    out, err = capsys.readouterr()
    return code, out, err


def findings(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code, out, err = run(capsys, "--json", *args)
    assert err == ""
    data: list[dict[str, Any]] = json.loads(out)
    jsonschema.validate(data, FINDINGS_SCHEMA)
    assert code == (1 if data else 0)
    return data


def kinds(data: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(f["urn"].rsplit("::", 1)[-1], f["kind"]) for f in data}


def test_every_kind_is_found_across_two_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    data = findings(capsys, PROD, STAGING, "--require-write-only")
    assert kinds(data) == {
        ("late", "overdue"),
        ("static", "never-rotated"),
        ("static", "no-schedule-no-triggers"),
        ("yearly", "period-too-long"),
        ("hidden-period", "period-too-long"),
        ("healthy", "shared-api-user"),
        ("shared", "shared-api-user"),
        *((name, "password-in-state") for name in ("healthy", "late", "yearly", "static")),
        *((name, "password-in-state") for name in ("shared", "hidden-period")),
    }
    by_key = {(f["urn"].rsplit("::", 1)[-1], f["kind"]): f for f in data}
    late = by_key["late", "overdue"]
    assert (late["stack"], late["project"], late["urn"]) == ("prod", "acme", urn("prod", "late"))
    assert late["source"] == PROD
    assert late["message"] == (
        "The scheduled rotation (2025-12-31T00:00:00Z) is 20 days overdue; run `pulumi up` on "
        "this stack to rotate the password."
    )
    assert by_key["static", "never-rotated"]["message"].startswith(
        "The password was never rotated in the 384 days since the token was requested "
        "(2025-01-01T00:00:00Z), longer than the maximum age of 90 days;"
    )
    assert by_key["yearly", "period-too-long"]["message"] == (
        "rotate_every is 365 days, longer than the maximum age of 90 days; set it to 90 days or "
        "less and run `pulumi up` on this stack."
    )
    assert by_key["hidden-period", "period-too-long"]["message"].startswith(
        "rotate_every (kept as a secret) longer than the maximum age of 90 days;"
    )
    assert by_key["healthy", "shared-api-user"]["message"].startswith(
        "This token uses the same API user as shared (acme/staging) (credential "
        "cred-1111111111111111); every rotation resets that user's password"
    )
    assert "same API user as healthy (acme/prod)" in by_key["shared", "shared-api-user"]["message"]


def test_the_order_follows_files_resources_and_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    data = findings(capsys, PROD, STAGING)
    assert [(f["urn"].rsplit("::", 1)[-1], f["kind"]) for f in data] == [
        ("healthy", "shared-api-user"),
        ("late", "overdue"),
        ("yearly", "period-too-long"),
        ("static", "never-rotated"),
        ("static", "no-schedule-no-triggers"),
        ("shared", "shared-api-user"),
        ("hidden-period", "period-too-long"),
    ]


def test_password_in_state_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    assert "password-in-state" not in {f["kind"] for f in findings(capsys, PROD, STAGING)}
    asked = findings(capsys, STAGING, "--require-write-only")
    assert ("write-only", "password-in-state") not in kinds(asked)
    assert ("shared", "password-in-state") in kinds(asked)


def test_one_stack_alone_shares_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert not {f["kind"] for f in findings(capsys, PROD)} & {"shared-api-user"}


def test_the_same_export_twice_does_not_share_with_itself(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = findings(capsys, PROD, PROD)
    assert "shared-api-user" not in {f["kind"] for f in data}
    assert len(data) == 2 * len(findings(capsys, PROD))


def _edited(tmp_path: Path, name: str, edit: Any) -> str:
    """A copy of the prod export, changed by `edit(resources)`."""
    data = json.loads(Path(PROD).read_text())
    edit(data["deployment"]["resources"])
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def _token(resources: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [r for r in resources if r["urn"].endswith(f"::{name}")]
    return found


def test_an_encrypted_period_is_judged_from_the_schedule_and_not_quoted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`pulumi stack export` keeps a secret rotate_every as ciphertext, but the slot and
    next_rotation_at it derives are plain: the period is their difference."""
    cipher = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}

    def encrypt(resources: list[dict[str, Any]]) -> None:
        yearly = _token(resources, "yearly")
        for side in ("inputs", "outputs"):
            yearly[side]["rotate_every"] = cipher | {"ciphertext": "v1:Q0lQSEVS"}

    data = findings(capsys, _edited(tmp_path, "encrypted.json", encrypt))
    (period,) = [f for f in data if f["kind"] == "period-too-long"]
    assert period["urn"].endswith("::yearly")
    assert period["message"].startswith("rotate_every (kept as a secret) longer than")
    assert "365" not in period["message"]


def test_an_email_change_does_not_restart_the_never_rotated_clock(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An email change mails again and sets requested_at anew; the engine's `created` keeps
    when the resource began, and the older of the two counts."""

    def email_changed(resources: list[dict[str, Any]]) -> None:
        static = _token(resources, "static")
        static["created"] = "2024-12-01T00:00:00.123456789Z"  # as Pulumi writes it
        static["outputs"]["requested_at"] = "2026-01-10T00:00:00Z"  # ten days before NOW

    data = findings(capsys, _edited(tmp_path, "email-changed.json", email_changed))
    (never,) = [f for f in data if f["kind"] == "never-rotated"]
    assert never["urn"].endswith("::static")
    assert "since the resource was created (2024-12-01T00:00:00Z)" in never["message"]


def test_same_named_stacks_in_two_organizations_are_two_resources(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A URN names the project and stack, not the organization: two exports of `acme/prod`
    from two organizations hold different resources (ids), which can share an API user."""

    def other_org(resources: list[dict[str, Any]]) -> None:
        for resource in resources:
            if "id" in resource:
                resource["id"] = "other-" + resource["id"]

    data = findings(capsys, PROD, _edited(tmp_path, "other-org.json", other_org))
    shared = {f["urn"].rsplit("::", 1)[-1] for f in data if f["kind"] == "shared-api-user"}
    assert shared == {"healthy", "late", "yearly", "static"}


@pytest.mark.parametrize("grace", ["0", "0s", "0m", "0d", "PT0S", "30s"])
def test_a_grace_may_be_zero_or_seconds_in_any_form(
    capsys: pytest.CaptureFixture[str], grace: str
) -> None:
    assert ("late", "overdue") in kinds(findings(capsys, PROD, "--grace", grace))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_now_takes_rfc_3339_in_lower_case_and_a_file_may_start_with_a_bom(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, encoding: str
) -> None:
    """RFC 3339 allows `t` and `z`; Windows PowerShell writes a UTF-8 byte-order mark, and
    5.1's `>` writes UTF-16 with one."""
    bom = tmp_path / "bom.json"
    bom.write_text(Path(PROD).read_text(), encoding=encoding)
    code = main(["audit", "--now", NOW.lower(), "--json", str(bom)])
    out, err = capsys.readouterr()
    assert (code, err) == (1, "")

    def unsourced(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in f.items() if k != "source"} for f in data]

    assert unsourced(json.loads(out)) == unsourced(findings(capsys, PROD))


def test_a_password_waiting_for_its_delivery_is_reported_and_is_in_state(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A delivery that failed after the reset leaves the password in `new_password` whatever
    `store_password` says, and `delivery_pending` set (docs/write-only-delivery.md): always a
    `delivery-pending` finding, and with --require-write-only a password held in state. Neither
    message quotes the password or the pending sentence."""
    cipher = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}

    def pending(resources: list[dict[str, Any]]) -> None:
        healthy = _token(resources, "healthy")
        healthy["inputs"]["store_password"] = False
        healthy["outputs"]["store_password"] = False
        healthy["outputs"]["new_password"] = cipher | {"ciphertext": "v1:UEFTU1dPUkQ="}
        healthy["outputs"]["delivery_pending"] = "delivering to command: pass failed (CANARY)"

    path = _edited(tmp_path, "pending.json", pending)
    plain = findings(capsys, path)
    asked = findings(capsys, path, "--require-write-only")

    assert ("healthy", "delivery-pending") in kinds(plain)
    assert ("healthy", "password-in-state") not in kinds(plain)
    by_key = {(f["urn"].rsplit("::", 1)[-1], f["kind"]): f for f in asked}
    assert by_key["healthy", "password-in-state"]["message"].startswith(
        "store_password is false, but a password is held (encrypted) in the stack state as "
        "new_password"
    )
    assert by_key["healthy", "delivery-pending"]["message"].startswith(
        "The last rotated password was not delivered (delivery_pending is set)"
    )
    assert not any("CANARY" in f["message"] or "UEFTU1dPUkQ" in f["message"] for f in asked)


def test_operations_a_run_never_finished_are_reported_when_they_may_have_changed_the_api(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`pulumi up` interrupted mid-step leaves `pending_operations` (apitype `OperationV2`: the
    new state for a create or an update, the old one for a delete). A create may have mailed a
    token and reset the password, an update may have rotated it: either way the API may hold a
    password that no state records. A delete calls the API only to deliver a waiting password,
    a read never. Findings follow the stack's resource findings; nothing is quoted."""
    data = json.loads(Path(PROD).read_text())
    resources = data["deployment"]["resources"]
    healthy, late = _token(resources, "healthy"), _token(resources, "late")
    new = json.loads(json.dumps(healthy))
    new["urn"] = urn("prod", "fresh")
    new["inputs"]["auth_token"] = "api-token-CANARY"  # plain, as a broken transform might leave
    del new["outputs"]
    waiting = json.loads(json.dumps(late))
    waiting["outputs"]["delivery_pending"] = "delivering to command: pass failed (CANARY)"
    foreign = {
        "urn": "urn:pulumi:prod::acme::aws:s3/bucket:Bucket::b",
        "type": "aws:s3/bucket:Bucket",
    }
    data["deployment"]["pending_operations"] = [
        {"resource": new, "type": "creating"},
        {"resource": healthy, "type": "updating"},
        {"resource": waiting, "type": "deleting"},
        {"resource": _token(resources, "yearly"), "type": "deleting"},  # nothing waits
        {"resource": _token(resources, "static"), "type": "reading"},
        {"resource": foreign, "type": "creating"},
    ]
    path = tmp_path / "interrupted.json"
    path.write_text(json.dumps(data))

    got = findings(capsys, str(path))
    plain = findings(capsys, PROD)
    assert got[: len(plain)] == [f | {"source": str(path)} for f in plain]
    interrupted = got[len(plain) :]
    assert [(f["urn"].rsplit("::", 1)[-1], f["kind"]) for f in interrupted] == [
        ("fresh", "interrupted"),
        ("healthy", "interrupted"),
        ("late", "interrupted"),
    ]
    created, updated, deleted = (f["message"] for f in interrupted)
    assert created.startswith(
        "A `pulumi up` was interrupted while creating this token (a pending creating operation)"
    )
    assert "`pulumi refresh --clear-pending-creates`" in created
    assert updated.startswith(
        "A `pulumi up` was interrupted while updating this token (a pending updating operation):"
        " if the update rotated the password, the API reset it"
    )
    assert updated.endswith(
        "the rotation is still due: run `pulumi up`, which clears the operation and rotates "
        "again to a password the state records."
    )
    assert deleted.startswith(
        "A run was interrupted while deleting this token (a pending deleting operation) whose "
        "last rotated password still waited for its sink"
    )
    assert interrupted[0]["stack"] == "prod"
    assert interrupted[0]["project"] == "acme"
    assert not any(c in json.dumps(got) for c in (*CANARIES, "CANARY"))
    code, out, _ = run(capsys, str(path))
    assert code == 1
    assert "interrupted" in out


def test_an_empty_delivery_pending_is_no_waiting_password(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The provider writes a sentence or nothing; an empty string says nothing waits, for the
    audit as for the policy pack's delivery-pending (`rules.delivery_waits`)."""

    def empty(resources: list[dict[str, Any]]) -> None:
        _token(resources, "healthy")["outputs"]["delivery_pending"] = ""

    path = _edited(tmp_path, "empty.json", empty)
    data = findings(capsys, path)
    assert ("healthy", "delivery-pending") not in kinds(data)
    # nor does an interrupted delete of it risk a waiting password
    export = json.loads(Path(path).read_text())
    (healthy,) = [r for r in export["deployment"]["resources"] if r["urn"].endswith("::healthy")]
    export["deployment"]["pending_operations"] = [{"resource": healthy, "type": "deleting"}]
    Path(path).write_text(json.dumps(export))
    assert ("healthy", "interrupted") not in kinds(findings(capsys, path))


def test_a_password_or_token_stored_in_clear_is_reported_without_its_value(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`new_password` and `auth_token` are always Pulumi secrets; stored plain (a transform, a
    hand-edited state), anyone who reads the state has them."""

    def plain(resources: list[dict[str, Any]]) -> None:
        healthy = _token(resources, "healthy")
        healthy["outputs"]["new_password"] = "password-CANARY"
        healthy["inputs"]["auth_token"] = "api-token-CANARY"

    data = findings(capsys, _edited(tmp_path, "plain.json", plain))
    (clear,) = [f for f in data if f["kind"] == "secret-in-clear"]
    assert clear["urn"].endswith("::healthy")
    assert clear["message"].startswith(
        "new_password and auth_token are stored in clear text in the stack state, not as a "
        "Pulumi secret"
    )
    assert not any(canary in json.dumps(data) for canary in CANARIES)
    assert "secret-in-clear" not in {f["kind"] for f in findings(capsys, PROD, STAGING)}


@pytest.mark.parametrize(
    ("requested", "age"),
    [("2025-10-21T22:00:00Z", "90 days, 2 hours"), ("2025-10-21T23:59:30Z", "90 days, 30 seconds")],
    ids=["two-hours-over", "thirty-seconds-over"],
)
def test_never_rotated_honours_the_grace_and_states_an_age_over_the_limit_exactly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, requested: str, age: str
) -> None:
    """A token never rotated, requested just over a 90-day maximum age before NOW: the message
    does not round the excess away, and a grace of a day forgives it."""

    def just_over(resources: list[dict[str, Any]]) -> None:
        static = _token(resources, "static")
        static["outputs"]["requested_at"] = requested
        static.pop("created", None)

    path = _edited(tmp_path, "just-over.json", just_over)
    (never,) = [f for f in findings(capsys, path) if f["kind"] == "never-rotated"]
    graced = findings(capsys, path, "--grace", "1d")

    assert f"never rotated in the {age} since the token was requested" in never["message"]
    assert ("static", "never-rotated") not in kinds(graced)


def test_grace_and_max_age_are_settings(capsys: pytest.CaptureFixture[str]) -> None:
    relaxed = kinds(findings(capsys, PROD, "--grace", "21d", "--max-age", "400d"))
    assert ("late", "overdue") not in relaxed
    assert ("yearly", "period-too-long") not in relaxed
    assert ("static", "never-rotated") not in relaxed  # requested 384 days ago, under 400
    assert ("late", "overdue") in kinds(findings(capsys, PROD, "--grace", "19d"))


@pytest.mark.parametrize("path", [FOREIGN, EMPTY])
def test_exports_without_tokens_are_clean(capsys: pytest.CaptureFixture[str], path: str) -> None:
    code, out, err = run(capsys, path)
    assert (code, err) == (0, "")
    assert out == "No findings on 0 PasswordResetToken resources in 1 stack.\n"
    assert findings(capsys, path) == []


def test_a_clean_stack_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, STAGING, "--max-age", "400d")
    assert code == 0
    assert out == "No findings on 3 PasswordResetToken resources in 1 stack.\n"


def test_the_table_is_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, PROD)
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[0].split() == ["STACK", "RESOURCE", "FINDING", "DETAIL"]
    assert lines[1].startswith("acme/prod  late      overdue                  The scheduled")
    assert lines[-1] == "4 findings on 3 of 4 PasswordResetToken resources in 1 stack."


def test_a_table_of_several_files_names_each_row_s_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Exports of `acme/prod` from two organizations hold different resources under the same
    names: the table says which file each row comes from, and counts resources per file."""

    def other_org(resources: list[dict[str, Any]]) -> None:
        for resource in resources:
            if "id" in resource:
                resource["id"] = "other-" + resource["id"]

    other = _edited(tmp_path, "other-org.json", other_org)
    code, out, err = run(capsys, PROD, other)
    lines = out.splitlines()

    assert (code, err) == (1, "")
    assert lines[0].split() == ["FILE", "STACK", "RESOURCE", "FINDING", "DETAIL"]
    rows = [line.split()[:3] for line in lines[1:-2]]
    assert [PROD, "acme/prod", "healthy"] in rows
    assert [other, "acme/prod", "healthy"] in rows
    assert lines[-1].endswith("on 8 of 8 PasswordResetToken resources in 2 stacks.")


@pytest.mark.parametrize("mode", [[], ["--json"]])
def test_no_secret_is_printed_even_from_show_secrets(
    capsys: pytest.CaptureFixture[str], mode: list[str]
) -> None:
    staging = Path(STAGING).read_text()
    assert all(canary in staging for canary in CANARIES[:4])
    code, out, err = run(capsys, PROD, STAGING, "--require-write-only", *mode)
    assert code == 1
    for canary in CANARIES:
        assert canary not in out + err


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_standard_input_is_read_for_dash(encoding: str) -> None:
    """Piped in, as `pulumi stack export | metal-reset audit -`, or a PowerShell 5.1 file."""
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_metal_reset", "audit", "-", "--now", NOW, "--json"],
        input=Path(PROD).read_text().encode(encoding),
        capture_output=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert {f["source"] for f in json.loads(result.stdout)} == {"standard input"}

"""Input the audit cannot read exits 2 with one sentence on stderr; bad options too. And the
command itself: console script, `python -m`, no Pulumi and no HTTP stack loaded."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from pulumi_metal_reset.audit.export import decode
from pulumi_metal_reset.cli import main
from tests.fresh_python import fresh_python

EXPORTS = Path(__file__).parent / "exports"
PROD: dict[str, Any] = json.loads((EXPORTS / "prod-v3-ciphertext.json").read_text())
SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def token(doc: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = doc["deployment"]["resources"][2]
    assert found["type"] == "pulumi-python:dynamic/metal:PasswordResetToken"
    return found


def broken(change: Any) -> str:
    doc = copy.deepcopy(PROD)
    change(doc)
    return json.dumps(doc)


CASES = {
    "empty": ("", "{src} is empty; give the output of `pulumi stack export`."),
    "not-json": (
        "{\n  'version': 3",
        "{src} is not JSON (line 2, column 3: Expecting property name enclosed in double "
        "quotes); give the output of `pulumi stack export`.",
    ),
    "array": ("[]", "{src} is not a stack export (not a JSON object); give the output of"),
    "null": ("null", "{src} is not a stack export (not a JSON object); give the output of"),
    "version-2": (
        json.dumps({"version": 2, "deployment": {}}),
        "{src} has deployment version 2, and this audit reads versions 3 and 4;",
    ),
    "version-5": (json.dumps({"version": 5, "deployment": {}}), "{src} has deployment version 5"),
    "no-version": (json.dumps({"deployment": {}}), "{src} has deployment version null"),
    "features-not-list": (
        json.dumps({"version": 4, "features": "views", "deployment": {}}),
        "{src} has a features entry that is not a list of names;",
    ),
    "no-deployment": (json.dumps({"version": 3}), "{src} has no deployment object;"),
    "checkpoint": (
        json.dumps({"version": 3, "checkpoint": {"stack": "prod", "latest": {}}}),
        "{src} is a backend checkpoint file, not an export; give the output of `pulumi stack "
        "export` and audit that.",
    ),
    "resources-not-list": (
        json.dumps({"version": 3, "deployment": {"resources": {}}}),
        "{src} has a resources entry that is not a list;",
    ),
    "resource-without-urn": (
        json.dumps({"version": 3, "deployment": {"resources": [{"type": "x:y:Z"}]}}),
        "{src}: resource 1 has no urn or type string;",
    ),
    "outputs-not-object": (
        broken(lambda d: token(d).update(outputs=[1])),
        "{src}: urn:pulumi:prod::acme::pulumi-python:dynamic/metal:PasswordResetToken::healthy "
        "has outputs that are not an object;",
    ),
    "pending-operations-not-list": (
        json.dumps({"version": 3, "deployment": {"pending_operations": {}}}),
        "{src} has a pending_operations entry that is not a list;",
    ),
    "pending-operation-without-type": (
        json.dumps({"version": 3, "deployment": {"pending_operations": [{"resource": {}}]}}),
        "{src}: pending operation 1 has no type string;",
    ),
    "pending-operation-without-resource": (
        json.dumps({"version": 3, "deployment": {"pending_operations": [{"type": "creating"}]}}),
        "{src}: the resource of pending operation 1 has no urn or type string;",
    ),
    "nested-too-deeply": ("[" * 100_000, "{src} is nested too deeply to be a stack export;"),
    # deep enough for the audit's own recursion, not for json.loads's
    "a-property-nested-too-deeply": (
        broken(
            lambda d: token(d)["outputs"].update(
                rotation_triggers=json.loads("[" * 600 + "]" * 600)
            )
        ),
        "{src} is nested too deeply to be a stack export;",
    ),
}

#: A value the provider never writes, in one token (`healthy`) of a readable export.
VALUE_CASES = {
    "secret-with-both-forms": (
        broken(
            lambda d: token(d)["outputs"].update(
                rotate_every={**SIG, "ciphertext": "v1:x", "plaintext": '"P1D"'}
            )
        ),
        "{src}: urn:pulumi:prod::acme::pulumi-python:dynamic/metal:PasswordResetToken::healthy "
        "property rotate_every is a malformed secret (it needs exactly one of ciphertext or "
        "plaintext);",
    ),
    "plaintext-not-json": (
        broken(lambda d: token(d)["outputs"].update(rotate_every={**SIG, "plaintext": "P1D"})),
        "property rotate_every is a secret whose plaintext is not JSON; re-export the stack with "
        "`pulumi stack export` (no --show-secrets is needed: the audit reads ciphertext).",
    ),
    "time-not-rfc3339": (
        broken(lambda d: token(d)["outputs"].update(next_rotation_at="next tuesday")),
        "property next_rotation_at is not an RFC 3339 time; the state holds a value the provider "
        "never writes: correct it with `pulumi stack export`, an edit and `pulumi stack import`, "
        "or let the next rotation record it again.",
    ),
    "period-not-duration": (
        broken(lambda d: token(d)["outputs"].update(rotate_every="monthly")),
        "property rotate_every is not a duration; use a form like",
    ),
    "count-not-number": (
        broken(lambda d: token(d)["outputs"].update(rotation_count="1")),
        "property rotation_count is not a number;",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_unreadable_input_exits_2_with_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    text, says = CASES[case]
    path = tmp_path / f"{case}.json"
    path.write_text(text)
    code = main(["audit", str(path), str(EXPORTS / "empty-stack.json")])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith("metal-reset audit: ")
    assert err.count("\n") == 1
    assert err.rstrip().endswith(".")
    assert says.format(src=path) in err


@pytest.mark.parametrize("case", sorted(VALUE_CASES))
def test_an_unreadable_value_is_a_finding_and_hides_no_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    """One odd value in one token is reported on that token (`unreadable-value`, the sentence
    saying what to do), and every other token in every file is still judged: exit 1."""
    text, says = VALUE_CASES[case]
    path = tmp_path / f"{case}.json"
    path.write_text(text)
    code = main(["audit", "--json", "--now", "2026-01-20T00:00:00Z", str(path)])
    out, err = capsys.readouterr()
    found = {(f["urn"].rsplit("::", 1)[-1], f["kind"]): f["message"] for f in json.loads(out)}

    assert (code, err) == (1, "")
    assert says.format(src=path) in found["healthy", "unreadable-value"]
    assert found["healthy", "unreadable-value"].endswith(".")
    assert ("late", "overdue") in found
    assert [k for k in found if k[0] == "healthy"] == [("healthy", "unreadable-value")]


def test_a_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "/nonexistent/prod.json"]) == 2
    assert capsys.readouterr().err == (
        "metal-reset audit: /nonexistent/prod.json does not exist; give the output of "
        "`pulumi stack export` and pass its path.\n"
    )


def test_stdin_only_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "-", "-"]) == 2
    assert "standard input (-) can be given only once" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--max-age", "1y"], "argument --max-age: '1y' uses months or years"),
        (["--grace", "soon"], "argument --grace: 'soon' is not a duration"),
        (["--now", "yesterday"], "argument --now: 'yesterday' is not an RFC 3339 time"),
    ],
)
def test_bad_options_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], says: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["audit", str(EXPORTS / "empty-stack.json"), *args])
    assert exited.value.code == 2
    assert says in capsys.readouterr().err


def test_secrets_decode_at_any_depth_and_stay_marked() -> None:
    value = decode(
        {"a": {**SIG, "plaintext": json.dumps({"b": "x"})}, "c": [{**SIG, "ciphertext": "v1:z"}]},
        "here",
    )
    assert value.value == {"a": {"b": "x"}, "c": [None]}
    assert value.secret
    assert not value.known
    assert decode({**SIG, "plaintext": "null"}, "here").value is None


def test_the_console_script_and_python_m_run_the_same_command() -> None:
    [script] = entry_points(group="console_scripts", name="metal-reset")
    assert script.value == "pulumi_metal_reset.cli:main"
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_metal_reset", "audit", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "usage: metal-reset audit" in result.stdout
    assert "Exit status: 0 no findings, 1 findings, 2 input that cannot be read." in result.stdout


def test_the_audit_loads_neither_pulumi_nor_the_http_stack() -> None:
    code = (
        "import sys; from pulumi_metal_reset.cli import main; "
        f"main(['audit', {str(EXPORTS / 'empty-stack.json')!r}]); "
        "print(sorted(m for m in ('pulumi', 'requests', 'urllib3', 'grpc', 'http.client', "
        "'socket', 'pulumi_metal_reset.client') if m in sys.modules))"
    )
    assert fresh_python(code).splitlines()[-1] == "[]"

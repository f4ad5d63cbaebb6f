"""`deliver.command` / `deliver.file` and the validation `check` will run on `deliver_to`."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulumi_metal_reset import deliver
from pulumi_metal_reset.delivery.models import (
    MAX_TIMEOUT,
    credential_like,
    mode_problem,
    parse_target,
    validate_delivery_inputs,
    validate_target,
)
from pulumi_metal_reset.inputs import Failure
from pulumi_metal_reset.unknowns import UNKNOWN_SENTINEL as UNKNOWN

PASS_ARGV = ["pass", "insert", "--multiline", "--force", "metal/ops"]
PLANTED = "s3cret-PLANTED-value"


def test_command_constructor_returns_the_normalised_plain_map() -> None:
    made = deliver.command(PASS_ARGV, env={"PASSWORD_STORE_DIR": "/srv/pass", "GNUPGHOME": "/g"})
    assert made == {
        "kind": "command",
        "argv": PASS_ARGV,
        "env": {"GNUPGHOME": "/g", "PASSWORD_STORE_DIR": "/srv/pass"},
        "timeout": 60.0,
    }
    assert validate_target(made) == (made, [])


def test_file_constructor_defaults_to_0600_shown_in_octal() -> None:
    assert deliver.file("/etc/metal/password") == {
        "kind": "file",
        "path": "/etc/metal/password",
        "mode": "0600",
    }
    assert deliver.file("/etc/metal/password", mode=0o640)["mode"] == "0640"


def test_constructors_fail_at_the_line_that_built_a_wrong_delivery() -> None:
    with pytest.raises(ValueError, match=r"^deliver_to.mode: 0644 gives every user.*read it\.$"):
        deliver.file("/etc/metal/password", mode=0o644)
    with pytest.raises(ValueError, match=r"VAULT_TOKEN, which looks like a credential") as err:
        deliver.command(["vault", "kv", "put"], env={"VAULT_TOKEN": PLANTED})
    assert PLANTED not in str(err.value)
    assert err.value.__cause__ is None
    assert err.value.__suppress_context__


def test_constructors_pass_pulumi_outputs_through_for_check_to_validate() -> None:
    class Output:  # stands for pulumi.Output: not plain data, known only later
        pass

    later: Any = Output()
    assert deliver.file(later)["path"] is later
    made = deliver.command(["pass"], env={"PASSWORD_STORE_DIR": later})
    assert made["env"] == {"PASSWORD_STORE_DIR": later}


def test_parse_target_gives_the_model() -> None:
    target = parse_target(deliver.file("/etc/metal/password", mode=0o400))
    assert target.kind == "file"
    assert target.mode_bits == 0o400
    with pytest.raises(ValueError, match="deliver_to does not hold a valid delivery"):
        parse_target({"kind": "file"})


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("pass", 'a map whose kind is "command" or "file"'),
        ([], 'a map whose kind is "command" or "file"'),
        ({}, 'a map whose kind is "command" or "file"'),
        ({"kind": "vault"}, 'a map whose kind is "command" or "file"'),
        ({"kind": "command"}, "deliver_to: has no argv; make it with deliver.command(argv)"),
        ({"kind": "file"}, "deliver_to: has no path; make it with deliver.file(path)"),
        ({"kind": "command", "argv": []}, "deliver_to.argv: must be a non-empty list"),
        ({"kind": "command", "argv": "pass insert"}, "deliver_to.argv: must be a non-empty list"),
        ({"kind": "command", "argv": ["pass", 3]}, "deliver_to.argv[1]: is not a string"),
        ({"kind": "command", "argv": ["pass", "a\x00b"]}, "deliver_to.argv[1]: contains a NUL"),
        ({"kind": "command", "argv": ["./store.sh"]}, "deliver_to.argv[0]: must name a program"),
        ({"kind": "command", "argv": ["bin/store"]}, "deliver_to.argv[0]: must name a program"),
        ({"kind": "command", "argv": [" "]}, "deliver_to.argv[0]: must name a program"),
        ({"kind": "command", "argv": ["x"] * 257}, "more than 256 items"),
        ({"kind": "command", "argv": ["p"], "timout": 5}, 'a key "timout" that a command'),
        ({"kind": "command", "argv": ["p"], "path": "/x"}, 'a key "path" that a command'),
        ({"kind": "command", "argv": ["p"], "env": ["A=b"]}, "deliver_to.env: must be a map"),
        ({"kind": "command", "argv": ["p"], "env": {"1A": "b"}}, 'a key "1A" that is not an'),
        ({"kind": "command", "argv": ["p"], "env": {"A-B": "b"}}, 'a key "A-B" that is not an'),
        ({"kind": "command", "argv": ["p"], "env": {"A": 3}}, "maps A to something that is not"),
        ({"kind": "command", "argv": ["p"], "env": {"A": "\x00"}}, "maps A to a value containing"),
        ({"kind": "command", "argv": ["p"], "timeout": 0}, "deliver_to.timeout: must be a number"),
        ({"kind": "command", "argv": ["p"], "timeout": -1}, "deliver_to.timeout: must be a number"),
        ({"kind": "command", "argv": ["p"], "timeout": 3601}, "at most 3600"),
        ({"kind": "command", "argv": ["p"], "timeout": True}, "deliver_to.timeout: must be"),
        ({"kind": "command", "argv": ["p"], "timeout": "60"}, "deliver_to.timeout: must be"),
        ({"kind": "file", "path": "etc/password"}, "deliver_to.path: must be an absolute file"),
        ({"kind": "file", "path": 7}, "deliver_to.path: must be an absolute file"),
        ({"kind": "file", "path": "/etc/metal/"}, "ends with /, which names a folder"),
        ({"kind": "file", "path": "/etc/../password"}, "contains a . or .. part"),
        ({"kind": "file", "path": "/etc/./password"}, "contains a . or .. part"),
        ({"kind": "file", "path": "/etc/\x00"}, "no NUL character"),
        ({"kind": "file", "path": "/p", "mode": 0o604}, "gives every user of the machine"),
        ({"kind": "file", "path": "/p", "mode": 0o700}, "makes the password file executable"),
        ({"kind": "file", "path": "/p", "mode": 0o240}, "does not let the file's owner read"),
        ({"kind": "file", "path": "/p", "mode": 0o1600}, "from 0o000 to 0o777"),
        ({"kind": "file", "path": "/p", "mode": "rw-------"}, "from 0o000 to 0o777"),
        ({"kind": "file", "path": "/p", "mode": 1.5}, "from 0o000 to 0o777"),
        ({"kind": "file", "path": "/p", "mode": True}, "from 0o000 to 0o777"),
    ],
)
def test_problems_are_reported_as_one_sentence_without_a_property(
    value: Any, fragment: str
) -> None:
    checked, failures = validate_target(value)
    assert checked is None
    assert len(failures) >= 1
    assert any(fragment in f.reason for f in failures), failures
    for failure in failures:
        # No property: the CLI would print deliver_to's value, environment values included.
        assert failure.property == ""
        # Like every unnamed failure: the path inside deliver_to, then what is wrong.
        assert failure.reason.startswith(failure.path + ": ")
        assert failure.path.startswith("deliver_to")
        assert not failure.reason.endswith(".")
        assert "\n" not in failure.reason


def test_every_problem_is_reported_at_once() -> None:
    _, failures = validate_target({"kind": "file", "path": "rel", "mode": 0o777, "x": 1})
    assert len(failures) == 3


@pytest.mark.parametrize(
    ("mode", "normalised"), [(0o600, "0600"), (384.0, "0600"), ("640", "0640"), ("0o400", "0400")]
)
def test_modes_arrive_as_ints_wire_floats_or_octal_text(mode: Any, normalised: str) -> None:
    checked, failures = validate_target({"kind": "file", "path": "/p", "mode": mode})
    assert failures == []
    assert checked is not None
    assert checked["mode"] == normalised


@pytest.mark.parametrize(
    "name",
    [
        "VAULT_TOKEN",
        "AWS_SESSION_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "OP_SERVICE_ACCOUNT_TOKEN",
        "PULUMI_ACCESS_TOKEN",
        "GITHUB_TOKEN",
        "CLIENT_SECRET",
        "MYSQL_PWD",
        "DB_PASSWORD",
        "PASSWORD",
        "GPG_PASSPHRASE",
        "DATADOG_API_KEY",
        "SOPS_AGE_KEY",
        "SSH_PRIVATE_KEY",
        "METAL_AUTH_TOKEN",
        "vault_token",
        "PGPASSWORD",
        "BW_SESSION",
        "BW_CLIENTSECRET",
        "OP_SESSION_my",
        "SSHPASS",
        "REDISCLI_AUTH",
        "AZURE_STORAGE_KEY",
        "GITHUB_PAT",
    ],
)
def test_credential_names_are_refused_in_env(name: str) -> None:
    assert credential_like(name)
    _, failures = validate_target({"kind": "command", "argv": ["p"], "env": {name: PLANTED}})
    assert len(failures) == 1
    assert "looks like a credential" in failures[0].reason
    assert "the environment that runs `pulumi up`" in failures[0].reason
    assert PLANTED not in failures[0].reason


@pytest.mark.parametrize(
    "name",
    [
        "PASSWORD_STORE_DIR",
        "PASSWORD_STORE_KEY",
        "PASSWORD_STORE_GPG_OPTS",
        "GNUPGHOME",
        "VAULT_ADDR",
        "VAULT_NAMESPACE",
        "VAULT_TOKEN_FILE",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "KUBECONFIG",
        "PWD",
        "GPG_KEY",
        "HOME",
        "VAULT_CLIENT_KEY",
        "CONSUL_CLIENT_KEY",
        "SSH_ASKPASS",
        "GIT_ASKPASS",
    ],
)
def test_place_names_are_accepted_in_env(name: str) -> None:
    assert not credential_like(name)
    _, failures = validate_target({"kind": "command", "argv": ["p"], "env": {name: "/x"}})
    assert failures == []


def test_urls_with_credentials_are_refused_in_env_values() -> None:
    value = f"https://ops:{PLANTED}@vault.example.com"
    _, failures = validate_target({"kind": "command", "argv": ["p"], "env": {"VAULT_ADDR": value}})
    assert len(failures) == 1
    assert "embeds credentials" in failures[0].reason
    assert PLANTED not in failures[0].reason
    # A key named by its owner's address is no URL credential.
    ok = {"kind": "command", "argv": ["p"], "env": {"PASSWORD_STORE_KEY": "ops@example.com"}}
    assert validate_target(ok)[1] == []


# --- store_password and the inputs as `check` sees them ------------------------------------


def test_store_password_defaults_to_true_and_needs_a_target_when_false() -> None:
    assert validate_delivery_inputs({}) == ({"deliver_to": None, "store_password": True}, [])
    _, failures = validate_delivery_inputs({"store_password": False})
    assert [f.property for f in failures] == ["store_password"]
    assert "kept nowhere" in failures[0].reason
    made = deliver.file("/etc/metal/password")
    checked, failures = validate_delivery_inputs({"deliver_to": made, "store_password": False})
    assert failures == []
    assert checked == {"deliver_to": made, "store_password": False}


def test_store_password_must_be_a_boolean() -> None:
    _, failures = validate_delivery_inputs({"store_password": "no"})
    assert failures == [Failure("store_password", "store_password", "must be true or false")]
    assert (failures[0].property, failures[0].reason) == ("store_password", "must be true or false")


def test_unknown_values_pass_through_unvalidated() -> None:
    news = {"deliver_to": {"kind": "file", "path": UNKNOWN}, "store_password": False}
    assert validate_delivery_inputs(news) == (news, [])
    assert validate_delivery_inputs({"store_password": UNKNOWN})[0]["store_password"] == UNKNOWN


def test_bad_target_and_bad_store_password_are_both_reported() -> None:
    _, failures = validate_delivery_inputs({"deliver_to": "pass", "store_password": 0})
    assert [f.property for f in failures] == ["", "store_password"]


# --- properties ------------------------------------------------------------------------------

PROGRAM = st.text(string.ascii_lowercase + string.digits + "-_", min_size=1, max_size=20) | (
    st.lists(st.text(string.ascii_letters + "-_.", min_size=1, max_size=8), min_size=1).map(
        lambda parts: "/" + "/".join(parts)
    )
)
ARGUMENT = st.text(st.characters(blacklist_characters="\x00"), max_size=40)
PLACE_WORD = st.sampled_from(["STORE", "DIR", "HOME", "ADDR", "PROFILE", "REGION", "PATH", "NS"])
ENV_NAME = st.lists(PLACE_WORD, min_size=1, max_size=3).map("_".join)
TIMEOUT = st.floats(min_value=0.001, max_value=MAX_TIMEOUT) | st.integers(1, int(MAX_TIMEOUT))


@given(
    PROGRAM,
    st.lists(ARGUMENT, max_size=6),
    st.dictionaries(ENV_NAME, ARGUMENT, max_size=4),
    TIMEOUT,
)
def test_valid_commands_are_accepted_and_normalising_is_idempotent(
    program: str, args: list[str], env: dict[str, str], timeout: float
) -> None:
    value = {"kind": "command", "argv": [program, *args], "env": env, "timeout": timeout}
    checked, failures = validate_target(value)
    assert failures == []
    assert checked is not None
    assert checked["argv"] == [program, *args]
    assert checked["env"] == env
    assert validate_target(checked) == (checked, [])


@given(st.integers(min_value=-(2**12), max_value=2**13))
def test_a_mode_is_accepted_exactly_when_the_rule_says_so(mode: int) -> None:
    # Owner-readable; no execute bit, no bit for other users, no group write.
    expected = 0 <= mode <= 0o777 and mode & 0o400 and not mode & 0o137
    checked, failures = validate_target({"kind": "file", "path": "/p", "mode": mode})
    assert (failures == []) == bool(expected)
    assert (mode_problem(mode) is None) == bool(expected)
    if expected:
        assert checked is not None
        assert int(checked["mode"], 8) == mode


@given(st.lists(st.text(string.ascii_letters + string.digits + "-_ ", min_size=1), min_size=1))
def test_absolute_paths_are_kept_as_written_and_relative_ones_refused(parts: list[str]) -> None:
    path = "/" + "/".join(parts)
    checked, failures = validate_target({"kind": "file", "path": path})
    assert failures == []
    assert checked is not None
    assert checked["path"] == path
    _, failures = validate_target({"kind": "file", "path": path[1:]})
    assert len(failures) == 1


@given(ENV_NAME, st.sampled_from(["TOKEN", "SECRET", "PASSWORD", "PASSPHRASE", "APIKEY"]))
def test_any_name_ending_in_a_credential_word_is_refused(prefix: str, word: str) -> None:
    assert credential_like(f"{prefix}_{word}")
    assert credential_like(f"{prefix}_{word}".lower())


FAULTS: list[dict[str, Any]] = [
    {"timeout": -1},
    {"env": {"VAULT_TOKEN": "x"}},
    {"env": {"9": "x"}},
    {"argv": []},
    {"argv": ["./x"]},
    {"mode": 0o777},
    {"kind": "nope"},
    {"extra": True},
]


@given(st.sampled_from(FAULTS), st.sampled_from(["command", "file"]), st.text(min_size=8))
def test_no_reason_ever_quotes_an_argument_or_an_environment_value(
    fault: dict[str, Any], kind: str, planted: str
) -> None:
    secret = f"<{planted}>"
    base: dict[str, Any] = (
        {"kind": kind, "argv": ["p", secret], "env": {"STORE_DIR": secret}}
        if kind == "command"
        else {"kind": kind, "path": "/p"}
    )
    value = base | fault
    if kind == "command":  # every environment value is the planted one
        value["env"] = dict.fromkeys([*value["env"], "STORE_DIR"], secret)
    _, failures = validate_target(value)
    assert failures
    assert all(secret not in f.reason for f in failures)


def test_a_decimal_mode_slip_is_refused_with_the_reason() -> None:
    """mode=400 (not 0o400) is 0o620: group write, refused, and the message says why."""
    _, failures = validate_target({"kind": "file", "path": "/p", "mode": 400})
    assert len(failures) == 1
    assert "0620 lets the file's group change the password" in failures[0].reason
    assert "read as decimal" in failures[0].reason


def test_a_command_given_as_one_string_is_refused() -> None:
    """A string is a sequence of characters: it must not become one argument per letter."""
    with pytest.raises(ValueError, match="must be a non-empty list of strings"):
        deliver.command("pass insert --multiline metal/ops")


@pytest.mark.parametrize(
    "argument", [f"-address=https://ops:{PLANTED}@vault.example.com", f"https://u:{PLANTED}@h/x"]
)
def test_urls_with_credentials_are_refused_in_argv(argument: str) -> None:
    _, failures = validate_target({"kind": "command", "argv": ["vault", argument]})
    assert len(failures) == 1
    assert failures[0].reason.startswith("deliver_to.argv[1]: holds a URL that embeds credentials")
    assert PLANTED not in failures[0].reason

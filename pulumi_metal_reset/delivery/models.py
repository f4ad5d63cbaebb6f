"""Validation of the delivery inputs `deliver_to` and `store_password` (pydantic v2).

Knows nothing of HTTP or Pulumi. Returns normalised values plus every failure at once, like
`inputs.validate_inputs`, as the same `inputs.Failure`. Every `deliver_to` failure is reported
without a property name: the CLI prints a named property's value, and `deliver_to` holds an
environment a user may have filled with something that must not be printed. So each reason starts
with the part of `deliver_to` at fault (`deliver_to.env: sets VAULT_TOKEN, ...`), as a
`rotation_triggers` failure does, and quotes no argument and no environment value.

`deliver_to` is recorded in plain text in the stack's state and shown by `pulumi preview`: it
says *where* the password goes, never *how to authenticate* there. A command inherits the
environment of the provider process (the one running `pulumi up`), which is where a store's own
credentials belong; names that look like credentials are refused in `env` for that reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from pulumi_metal_reset.inputs import Failure
from pulumi_metal_reset.unknowns import is_unknown

__all__ = [
    "DEFAULT_FILE_MODE",
    "DEFAULT_TIMEOUT",
    "MAX_TIMEOUT",
    "CommandTarget",
    "Failure",
    "FileTarget",
    "Target",
    "credential_like",
    "mode_problem",
    "parse_target",
    "validate_delivery_inputs",
    "validate_target",
]

#: The input every target failure concerns; `inputs.Failure` never names it as the property
#: (see the module docstring), so its reason starts with the path, as for rotation_triggers.
FIELD = "deliver_to"

DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 3600.0
DEFAULT_FILE_MODE = 0o600
MAX_ARGS = 256
MAX_ARG_CHARS = 4096
MAX_ENV = 64
MAX_PATH_CHARS = 4096

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# The last word of a variable name that holds a credential: VAULT_TOKEN, AWS_SESSION_TOKEN,
# CLIENT_SECRET, MYSQL_PWD, ... (PWD alone is the working folder and stays allowed).
_CREDENTIAL_LAST = {
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PWD",
    "PASSPHRASE",
    "CREDENTIAL",
    "CREDENTIALS",
    "APIKEY",
}
# `<word>_KEY` where the word makes it a secret key (API_KEY, AWS_SECRET_ACCESS_KEY, SOPS_AGE_KEY,
# AZURE_STORAGE_KEY); PASSWORD_STORE_KEY and GPG_KEY name a public key id, VAULT_CLIENT_KEY a
# key file, and stay allowed.
_SECRET_KEY_WORDS = {
    *("API", "PRIVATE", "SECRET", "ACCESS", "AGE", "ENCRYPTION", "MASTER"),
    *("STORAGE", "ACCOUNT", "SHARED"),
}
# Words that make any name a credential wherever they stand (AWS_SECRET_ACCESS_KEY, ...).
_CREDENTIAL_ANYWHERE = {"SECRET", "PASSPHRASE"}
# Endings of a run-together last word (PGPASSWORD, BW_CLIENTSECRET, SSHPASS).
_CREDENTIAL_ENDINGS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "PASS")
# Last words that hold a session or auth credential of a store's CLI (BW_SESSION, REDISCLI_AUTH,
# GITHUB_PAT).
_CREDENTIAL_LAST_MORE = {"SESSION", "AUTH", "PAT"}
_URL_WITH_PASSWORD = re.compile(r"://[^/@\s]*:[^/@\s]*@")


def _custom(path: str, detail: str) -> PydanticCustomError:
    """A failure at `path` inside `deliver_to`; `{` and `}` are escaped for pydantic."""
    escaped = detail.replace("{", "{{").replace("}", "}}")
    return PydanticCustomError("delivery", escaped, {"path": path})


def _shown(text: str, limit: int = 60) -> str:
    """A user-written name quoted in a reason: printable, bounded, never an argument or value."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text)
    return f'"{clean[:limit]}…"' if len(clean) > limit else f'"{clean}"'


def credential_like(name: str) -> bool:
    """True when an environment variable name looks like it holds a credential."""
    words = [w for w in re.split(r"[^A-Z0-9]+", name.upper()) if w]
    if not words:
        return False
    if len(words) > 1 and words[-1] in _CREDENTIAL_LAST:
        return True
    if len(words) == 1 and words[0] in _CREDENTIAL_LAST - {"PWD"}:
        return True
    if words[-1] == "KEY" and len(words) > 1 and words[-2] in _SECRET_KEY_WORDS:
        return True
    if words[-1] in _CREDENTIAL_LAST_MORE:
        return True
    if words[-1].endswith(_CREDENTIAL_ENDINGS) and not words[-1].endswith("ASKPASS"):
        return True  # SSH_ASKPASS, GIT_ASKPASS name a program
    if words[:2] == ["OP", "SESSION"]:  # 1Password's OP_SESSION_<account>
        return True
    return bool(_CREDENTIAL_ANYWHERE & set(words))


def _argv(value: Any) -> list[str]:
    example = 'such as ["pass", "insert", "--multiline", "--force", "metal/ops"]'
    if not isinstance(value, (list, tuple)) or not value:
        raise _custom("deliver_to.argv", f"must be a non-empty list of strings, {example}")
    if len(value) > MAX_ARGS:
        raise _custom("deliver_to.argv", f"has more than {MAX_ARGS} items; shorten the command")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise _custom(
                f"deliver_to.argv[{index}]",
                'is not a string; quote it, for example "3" rather than 3',
            )
        if "\x00" in item:
            raise _custom(
                f"deliver_to.argv[{index}]",
                "contains a NUL character, which no program can receive; remove it",
            )
        if len(item) > MAX_ARG_CHARS:
            raise _custom(
                f"deliver_to.argv[{index}]",
                f"is longer than {MAX_ARG_CHARS} characters; shorten it",
            )
        if _URL_WITH_PASSWORD.search(item):
            raise _custom(
                f"deliver_to.argv[{index}]",
                "holds a URL that embeds credentials, and deliver_to is kept in plain text in "
                "the stack's state; remove them from the URL and give them to the command "
                "through the environment that runs `pulumi up`",
            )
    program = value[0]
    if not program.strip() or ("/" in program and not program.startswith("/")):
        raise _custom(
            "deliver_to.argv[0]",
            "must name a program found on PATH (such as pass) or give its "
            "absolute path (such as /usr/bin/pass); a relative path would depend on the folder "
            "the provider process runs in",
        )
    return list(value)


def _env(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _custom(
            "deliver_to.env",
            "must be a map of variable names to strings, such as "
            '{"PASSWORD_STORE_DIR": "/srv/pass"}',
        )
    if len(value) > MAX_ENV:
        raise _custom("deliver_to.env", f"has more than {MAX_ENV} variables; remove some")
    for name, item in value.items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise _custom(
                "deliver_to.env",
                f"has a key {_shown(str(name))} that is not an environment variable "
                "name; use letters, digits and underscores, not starting with a digit",
            )
        if credential_like(name):
            raise _custom(
                "deliver_to.env",
                f"sets {name}, which looks like a credential, and deliver_to is "
                f"kept in plain text in the stack's state; set {name} in the environment that "
                "runs `pulumi up` instead, which the command inherits",
            )
        if not isinstance(item, str):
            raise _custom(
                "deliver_to.env",
                f"maps {name} to something that is not a string; quote it, for "
                'example "3" rather than 3',
            )
        if "\x00" in item:
            raise _custom(
                "deliver_to.env", f"maps {name} to a value containing a NUL character; remove it"
            )
        if _URL_WITH_PASSWORD.search(item):
            raise _custom(
                "deliver_to.env",
                f"maps {name} to a URL that embeds credentials, and deliver_to is "
                "kept in plain text in the stack's state; remove them from the URL and give them "
                "to the command through the environment that runs `pulumi up`",
            )
    return {name: value[name] for name in sorted(value)}


def _timeout(value: Any) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 < value <= MAX_TIMEOUT
    ):
        raise _custom(
            "deliver_to.timeout",
            f"must be a number of seconds greater than 0 and at most {MAX_TIMEOUT:.0f}, such as 60",
        )
    return float(value)


def _path(value: Any) -> str:
    example = "such as /etc/metal/password"
    if not isinstance(value, str) or not value.startswith("/"):
        raise _custom("deliver_to.path", f"must be an absolute file path, {example}")
    if "\x00" in value or len(value) > MAX_PATH_CHARS:
        raise _custom(
            "deliver_to.path", f"must be at most {MAX_PATH_CHARS} characters with no NUL character"
        )
    if value.endswith("/"):
        raise _custom(
            "deliver_to.path", f"ends with /, which names a folder; give a file, {example}"
        )
    if any(part in (".", "..") for part in value.split("/")):
        raise _custom(
            "deliver_to.path", "contains a . or .. part; give the path it leads to, without them"
        )
    return value


def mode_problem(mode: int) -> str | None:
    """Why a file mode is refused, or None.

    The default 0600 lets only the provider's user read the password. Group bits are accepted
    when written explicitly (0640 for a service group is a real deployment, and preview shows
    it); bits for other users never are, since every account on the machine could read the
    password, and execute bits make no sense on a password.
    """
    if not 0 <= mode <= 0o777:
        return "must be a permission mode from 0o000 to 0o777, such as 0o600"
    if mode & 0o007:
        return (
            f"{mode:04o} gives every user of the machine access to the password; use 0o600, or "
            "0o640 to let the file's group read it"
        )
    if mode & 0o111:
        return f"{mode:04o} makes the password file executable; use 0o600"
    if mode & 0o020:
        return (
            f"{mode:04o} lets the file's group change the password; use 0o600, or 0o640 to let "
            "the group read it (a mode written without 0o, such as 400, is read as decimal)"
        )
    if not mode & 0o400:
        return f"{mode:04o} does not let the file's owner read it; use 0o600"
    return None


_OCTAL = re.compile(r"(?:0o|0)?([0-7]{3})\Z")


def _mode(value: Any) -> str:
    if value is None:
        mode = DEFAULT_FILE_MODE
    elif isinstance(value, bool):
        mode = -1
    elif isinstance(value, int):
        mode = value
    elif isinstance(value, float) and value.is_integer():
        mode = int(value)  # numbers arrive as floats on the wire
    elif isinstance(value, str) and (match := _OCTAL.match(value.strip().lower())):
        mode = int(match.group(1), 8)
    else:
        mode = -1
    problem = mode_problem(mode)
    if problem is not None:
        raise _custom("deliver_to.mode", problem)
    return f"{mode:04o}"


class CommandTarget(BaseModel):
    """Run `argv` with the password on standard input; the exit code decides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["command"]
    argv: Annotated[list[str], BeforeValidator(_argv)]
    env: Annotated[dict[str, str], BeforeValidator(_env)] = Field(default_factory=dict)
    timeout: Annotated[float, BeforeValidator(_timeout)] = DEFAULT_TIMEOUT


class FileTarget(BaseModel):
    """Write the password to `path`, atomically, with `mode` (octal text, e.g. "0600")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["file"]
    path: Annotated[str, BeforeValidator(_path)]
    mode: Annotated[str, BeforeValidator(_mode)] = f"{DEFAULT_FILE_MODE:04o}"

    @property
    def mode_bits(self) -> int:
        return int(self.mode, 8)


Target = Annotated[CommandTarget | FileTarget, Field(discriminator="kind")]
_TARGET: TypeAdapter[CommandTarget | FileTarget] = TypeAdapter(Target)

_KEYS = {"command": "argv, env and timeout", "file": "path and mode"}
_KIND = (
    "must be made with deliver.command(...) or deliver.file(...): a map whose kind is "
    '"command" or "file"'
)


def _failure(error: Any) -> Failure:
    """One pydantic error as the shared `inputs.Failure`: always at a path inside deliver_to."""
    kind, loc = error["type"], error["loc"]
    if kind == "delivery":
        return Failure(FIELD, str(error["ctx"]["path"]), str(error["msg"]))
    if kind == "extra_forbidden" and len(loc) >= 2:
        return Failure(
            FIELD,
            FIELD,
            f"has a key {_shown(str(loc[-1]))} that a {loc[0]} does not take; "
            f"a {loc[0]} takes {_KEYS[str(loc[0])]}",
        )
    if kind == "missing" and len(loc) >= 2:
        maker = "deliver.command(argv)" if loc[0] == "command" else "deliver.file(path)"
        return Failure(FIELD, FIELD, f"has no {loc[-1]}; make it with {maker}")
    return Failure(FIELD, FIELD, _KIND)


def validate_target(value: Any) -> tuple[dict[str, Any] | None, list[Failure]]:
    """The normalised `deliver_to` map (None when absent), and every failure.

    Call it with a known value: unknown values pass through `validate_delivery_inputs`.
    """
    if value is None:
        return None, []
    try:
        target = _TARGET.validate_python(value)
    except ValidationError as err:
        return None, list(dict.fromkeys(_failure(e) for e in err.errors()))
    return target.model_dump(), []


def parse_target(value: Mapping[str, Any]) -> CommandTarget | FileTarget:
    """A checked `deliver_to` map as a model; raises ValueError if it was never checked."""
    try:
        return _TARGET.validate_python(dict(value))
    except ValidationError:
        raise ValueError(
            "deliver_to does not hold a valid delivery; make it with deliver.command(...) or "
            "deliver.file(...)."
        ) from None


def validate_delivery_inputs(news: Mapping[str, Any]) -> tuple[dict[str, Any], list[Failure]]:
    """Check `deliver_to` and `store_password`; unknown values pass through untouched.

    `store_password=False` needs a `deliver_to`: otherwise a rotated password would be kept
    nowhere. `store_password` failures may name their property (its value is a boolean).
    """
    checked: dict[str, Any] = {}
    failures: list[Failure] = []
    target = news.get("deliver_to")
    if is_unknown(target):
        checked["deliver_to"] = target
    else:
        checked["deliver_to"], found = validate_target(target)
        failures.extend(found)
    store = news.get("store_password")
    if is_unknown(store):
        checked["store_password"] = store
    elif store is None or isinstance(store, bool):
        checked["store_password"] = store is not False
    else:
        failures.append(Failure("store_password", "store_password", "must be true or false"))
        checked["store_password"] = True
    if store is False and target is None:
        failures.append(
            Failure(
                "store_password",
                "store_password",
                "is false but deliver_to is not set, so a rotated password would be kept "
                "nowhere; set deliver_to, or leave store_password true",
            )
        )
    return checked, failures

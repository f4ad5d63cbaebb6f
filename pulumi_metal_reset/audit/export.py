"""Read the files `pulumi stack export` writes (pulumi/pulumi `sdk/go/common/apitype`).

An export is an `UntypedDeployment`: `{"version": 3 | 4, "features": [...] (version 4 only),
"deployment": DeploymentV3}`; `deployment.resources` is a list of `ResourceV3`
(`urn`, `type`, `inputs`, `outputs`, `delete`, ...), and `deployment.pending_operations` a list
of `OperationV2` (`resource`, a `ResourceV3`, and `type`: the step the engine began and never
saw end, such as `creating` or `updating`). A secret is an object whose signature key
holds the secret signature and that carries exactly one of `ciphertext` (the default) or
`plaintext` (the JSON text of the value, with `--show-secrets`).

Secret values are decoded only into `Value(secret=True)`, so callers can judge a value without
ever printing it. Every failure is an `ExportError` holding one sentence.
"""

from __future__ import annotations

import codecs
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi_metal_reset.unknowns import UNKNOWN_SENTINEL

__all__ = [
    "ExportError",
    "ExportedResource",
    "ExportedStack",
    "PendingOperation",
    "Value",
    "load",
    "parse",
]

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 (a type tag, not a secret)
VERSIONS = (3, 4)
_HINT = "give the output of `pulumi stack export`"


class ExportError(Exception):
    """An input file cannot be read as an export; the message is one sentence."""


@dataclass(frozen=True)
class Value:
    """A property as the audit sees it: `known` is False for ciphertext and unknown values."""

    value: Any = None
    secret: bool = False
    known: bool = True
    present: bool = True


MISSING = Value(present=False)


@dataclass(frozen=True)
class ExportedResource:
    urn: str
    type: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    delete: bool = False
    #: The provider's id: with the URN, what tells one resource from another in two stacks of
    #: the same project and name (in two organizations).
    id: str = ""
    #: When the engine created the resource (`created`, RFC 3339), when the export says.
    created: str | None = None

    @property
    def project(self) -> str:
        parts = self.urn.split("::")
        return parts[1] if len(parts) > 3 else ""

    @property
    def stack(self) -> str:
        parts = self.urn.split("::")
        return parts[0].removeprefix("urn:pulumi:") if len(parts) > 3 else ""

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class PendingOperation:
    """A step the engine began and never saw end: `pulumi up` was interrupted during it."""

    type: str
    """`creating`, `updating`, `deleting`, `reading` or `importing`."""
    resource: ExportedResource
    """The state it began with: the new one for a create or an update, the old for a delete."""


@dataclass(frozen=True)
class ExportedStack:
    source: str
    version: int
    features: tuple[str, ...] = ()
    resources: tuple[ExportedResource, ...] = field(default=())
    pending: tuple[PendingOperation, ...] = field(default=())


def decode(raw: Any, where: str) -> Value:
    """One property value, with any secret wrapper (at any depth) opened."""
    secret = False
    if isinstance(raw, Mapping) and raw.get(SIG_KEY) == SECRET_SIG:
        cipher, plain = raw.get("ciphertext"), raw.get("plaintext")
        if isinstance(cipher, str) == isinstance(plain, str):
            raise ExportError(
                f"{where} is a malformed secret (it needs exactly one of ciphertext or "
                f"plaintext); {_HINT}."
            )
        if isinstance(cipher, str):
            return Value(secret=True, known=False)
        try:
            raw = json.loads(str(plain))
        except ValueError:
            raise ExportError(
                f"{where} is a secret whose plaintext is not JSON; re-export the stack with "
                "`pulumi stack export` (no --show-secrets is needed: the audit reads ciphertext)."
            ) from None
        secret = True
    if raw == UNKNOWN_SENTINEL:
        return Value(secret=secret, known=False)
    if isinstance(raw, Mapping):
        items = {k: decode(v, where) for k, v in raw.items()}
        inner_secret = any(v.secret for v in items.values())
        return Value(
            {k: v.value for k, v in items.items()},
            secret=secret or inner_secret,
            known=all(v.known for v in items.values()),
        )
    if isinstance(raw, list):
        elements = [decode(v, where) for v in raw]
        return Value(
            [v.value for v in elements],
            secret=secret or any(v.secret for v in elements),
            known=all(v.known for v in elements),
        )
    return Value(raw, secret=secret)


def load(path: str) -> ExportedStack:
    """Read one export from a file, or from standard input for `-`."""
    source = "standard input" if path == "-" else path
    try:
        # Windows PowerShell saves with a byte-order mark: UTF-8 (7) or, from 5.1's `>`, UTF-16
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        text = _decoded(data)
    except FileNotFoundError:
        raise ExportError(f"{source} does not exist; {_HINT} and pass its path.") from None
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise ExportError(f"{source} cannot be read ({reason}); {_HINT}.") from None
    return parse(text, source)


#: Far deeper than any state the provider writes, and shallow enough for `decode`'s recursion.
MAX_DEPTH = 100


def _too_deep(data: Any) -> bool:
    """Whether lists and objects nest beyond MAX_DEPTH (walked without recursion)."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return False


def _decoded(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    return data.decode("utf-8")


def parse(text: str, source: str) -> ExportedStack:
    text = text.removeprefix("\ufeff")  # a byte-order mark, as from standard input
    if not text.strip():
        raise ExportError(f"{source} is empty; {_HINT}.")
    too_deep = f"{source} is nested too deeply to be a stack export; {_HINT}."
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ExportError(
            f"{source} is not JSON (line {err.lineno}, column {err.colno}: {err.msg}); {_HINT}."
        ) from None
    except RecursionError:
        raise ExportError(too_deep) from None
    if _too_deep(data):
        raise ExportError(too_deep)
    if not isinstance(data, dict):
        raise ExportError(f"{source} is not a stack export (not a JSON object); {_HINT}.")
    if "checkpoint" in data and "deployment" not in data:
        raise ExportError(
            f"{source} is a backend checkpoint file, not an export; {_HINT} and audit that."
        )
    version = data.get("version")
    if isinstance(version, bool) or version not in VERSIONS:
        raise ExportError(
            f"{source} has deployment version {json.dumps(version)}, and this audit reads "
            f"versions 3 and 4; {_HINT} from a current Pulumi CLI."
        )
    features = data.get("features") if version >= 4 else None
    if features is not None and not (
        isinstance(features, list) and all(isinstance(f, str) for f in features)
    ):
        raise ExportError(f"{source} has a features entry that is not a list of names; {_HINT}.")
    deployment = data.get("deployment")
    if not isinstance(deployment, dict):
        raise ExportError(f"{source} has no deployment object; {_HINT}.")
    raw_resources = deployment.get("resources")
    raw_resources = [] if raw_resources is None else raw_resources
    if not isinstance(raw_resources, list):
        raise ExportError(f"{source} has a resources entry that is not a list; {_HINT}.")
    return ExportedStack(
        source,
        version,
        tuple(features or ()),
        tuple(_resource(r, source, f"resource {i + 1}") for i, r in enumerate(raw_resources)),
        _pending(deployment.get("pending_operations"), source),
    )


def _pending(raw: Any, source: str) -> tuple[PendingOperation, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ExportError(f"{source} has a pending_operations entry that is not a list; {_HINT}.")
    operations = []
    for index, op in enumerate(raw):
        if not isinstance(op, dict) or not isinstance(op.get("type"), str):
            raise ExportError(
                f"{source}: pending operation {index + 1} has no type string; {_HINT}."
            )
        label = f"the resource of pending operation {index + 1}"
        operations.append(
            PendingOperation(op["type"], _resource(op.get("resource"), source, label))
        )
    return tuple(operations)


def _resource(raw: Any, source: str, label: str) -> ExportedResource:
    """One `ResourceV3`; `label` names it in an error until its URN can, e.g. `resource 3`."""
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("urn"), str)
        or not isinstance(raw.get("type"), str)
    ):
        raise ExportError(f"{source}: {label} has no urn or type string; {_HINT}.")
    props = {}
    for key in ("inputs", "outputs"):
        value = raw.get(key)
        value = {} if value is None else value
        if not isinstance(value, dict):
            raise ExportError(f"{source}: {raw['urn']} has {key} that are not an object; {_HINT}.")
        props[key] = value
    return ExportedResource(
        raw["urn"],
        raw["type"],
        props["inputs"],
        props["outputs"],
        raw.get("delete") is True,
        raw["id"] if isinstance(raw.get("id"), str) else "",
        raw["created"] if isinstance(raw.get("created"), str) else None,
    )

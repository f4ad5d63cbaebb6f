"""The test engine's state file: plain JSON, NOT encrypted (secrets stay wrapped, in clear text).

The real engine keeps a checkpoint with encrypted secrets in a backend. This file keeps the facts a
test needs between runs: per resource the fields of the engine's ``resource.State`` that change
what the next run does (URN, type, ID, checked inputs, outputs, parent, protect, retainOnDelete,
pending deletes and replacements, dependencies and the options the display and export show), plus
the stack outputs. Secret values keep their wire wrapper so secret-ness survives; reprs mask them.

Because the file holds secrets in clear, its default home is outside the program's source tree:
``<system temp>/pulumi-metal-reset-test-state/<hash of the program dir>/<stack>.json``, in a
directory only the current user can read (:func:`default_state_path`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ._urns import urn_name
from ._wire import PropertyMap, to_display

STATE_VERSION = 1
STATE_DIR_NAME = "pulumi-metal-reset-test-state"


@dataclass(repr=False)
class ResourceState:
    """One resource as recorded in state (the engine's ``resource.State``, reduced)."""

    urn: str
    type: str
    custom: bool
    id: str = ""
    parent: str = ""
    inputs: PropertyMap = field(default_factory=dict)
    outputs: PropertyMap = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    #: A replaced resource whose delete has not happened yet (deleted by the next successful up).
    delete: bool = False
    #: Deleted by a delete-before-replace whose create has not happened yet.
    pending_replacement: bool = False
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    additional_secret_outputs: list[str] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    import_id: str = ""
    #: When the resource was created (or imported) and when its state last changed, as the
    #: engine records them (``step.go``: Create and Import set both, Update and a refresh that
    #: finds a change set `modified`); RFC 3339 in UTC with nanoseconds, "" when not known.
    created: str = ""
    modified: str = ""

    @property
    def name(self) -> str:
        """The resource name: the last URN segment."""
        return urn_name(self.urn)

    def all_dependencies(self) -> list[str]:
        """Parent, dependencies and property dependencies (``GetAllDependencies``), no repeats."""
        found = [self.parent] if self.parent else []
        found += self.dependencies
        for urns in self.property_dependencies.values():
            found += urns
        return list(dict.fromkeys(found))

    def __repr__(self) -> str:
        return (
            f"ResourceState(urn={self.urn!r}, id={self.id!r}, inputs={to_display(self.inputs)!r}, "
            f"outputs={to_display(self.outputs)!r}, protect={self.protect}, delete={self.delete})"
        )

    def to_json(self) -> dict[str, Any]:
        """JSON form for the state file."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResourceState:
        """Read one entry of the state file (fields added later default)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def go_timestamp(ns: int) -> str:
    """``time.Now().UTC()`` as Go's JSON writes it: RFC 3339 with nanoseconds, trailing zeros
    of the fraction dropped (``RFC3339Nano``)."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{fraction:09d}".rstrip("0")
    return f"{stamp}{'.' + digits if digits else ''}Z"


@dataclass(repr=False)
class StackState:
    """Everything kept between runs of one stack."""

    project: str
    stack: str
    resources: list[ResourceState] = field(default_factory=list)
    outputs: PropertyMap = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"StackState(project={self.project!r}, stack={self.stack!r}, "
            f"resources={self.resources!r}, outputs={to_display(self.outputs)!r})"
        )

    def resource(self, name: str) -> ResourceState:
        """The live resource named ``name`` (KeyError when there is none)."""
        for res in self.resources:
            if res.name == name and not res.delete:
                return res
        raise KeyError(f"no resource named {name!r} in state")

    def to_json(self) -> dict[str, Any]:
        """JSON form for the state file."""
        return {
            "version": STATE_VERSION,
            "note": "pulumi_metal_reset test engine state: NOT encrypted, secrets in clear text",
            "project": self.project,
            "stack": self.stack,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
        }


def default_state_path(program_dir: Path, stack: str) -> Path:
    """Where a stack's state lives unless the test says otherwise: under the system temp dir,
    keyed by the program directory, never inside the program's source tree.

    The temp dir is shared with every user of the machine and the path is predictable, so the
    folders are this user's own (named by uid, made 0700 and checked): a state file planted by
    another user would be trusted, and its pickled `__provider` run by the next destroy.
    """
    key = hashlib.sha256(str(Path(program_dir).resolve()).encode()).hexdigest()[:16]
    base = Path(tempfile.gettempdir()) / f"{STATE_DIR_NAME}-{os.getuid()}"
    for folder in (base, base / key):
        _private_folder(folder)
    return base / key / f"{stack}.json"


def _private_folder(folder: Path) -> None:
    """Make `folder` (mode 0700) or accept it only as a real folder of this user's, closed to
    others; raise ValueError otherwise."""
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise ValueError(
            f"The test engine's state folder {folder} is not a folder of this user's closed to "
            "others (another user may have made it first); remove it, or pass state_path= to "
            "TestEngine."
        )


def load_state(path: Path, project: str, stack: str) -> StackState:
    """The stack's state, or an empty one when the file does not exist."""
    if not path.exists():
        return StackState(project=project, stack=stack)
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("version") != STATE_VERSION:
        raise ValueError(f"{path}: unsupported test-engine state version {data.get('version')!r}")
    return StackState(
        project=str(data.get("project", project)),
        stack=str(data.get("stack", stack)),
        resources=[ResourceState.from_json(r) for r in data.get("resources", [])],
        outputs=dict(data.get("outputs") or {}),
    )


def save_state(path: Path, state: StackState) -> None:
    """Write the state atomically (rename over the old file), readable by this user only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n"
    # A new file of a random name (O_EXCL, 0600): a link planted at a fixed name is never
    # followed.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise

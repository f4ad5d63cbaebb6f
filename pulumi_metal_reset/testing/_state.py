"""The test engine's state file: plain JSON, NOT encrypted (secrets stay wrapped, in clear text).

The real engine keeps a checkpoint with encrypted secrets in a backend. This file keeps the same
facts a test needs between runs: per resource its URN, type, ID, checked inputs and outputs (secret
values kept in their wire wrapper so secret-ness survives), plus the stack outputs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._wire import PropertyMap

STATE_VERSION = 1


@dataclass
class ResourceState:
    """One resource as recorded in state."""

    urn: str
    type: str
    custom: bool
    id: str = ""
    parent: str = ""
    inputs: PropertyMap = field(default_factory=dict)
    outputs: PropertyMap = field(default_factory=dict)
    delete_before_replace: bool = False
    #: A replaced resource whose delete has not happened yet (deleted by the next successful up).
    delete: bool = False

    @property
    def name(self) -> str:
        """The resource name: the last URN segment."""
        return self.urn.split("::")[-1]

    def to_json(self) -> dict[str, Any]:
        """JSON form for the state file."""
        return {
            "urn": self.urn,
            "type": self.type,
            "custom": self.custom,
            "id": self.id,
            "parent": self.parent,
            "inputs": self.inputs,
            "outputs": self.outputs,
            "delete_before_replace": self.delete_before_replace,
            "delete": self.delete,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResourceState:
        """Read one entry of the state file."""
        return cls(
            urn=str(data["urn"]),
            type=str(data["type"]),
            custom=bool(data.get("custom", False)),
            id=str(data.get("id", "")),
            parent=str(data.get("parent", "")),
            inputs=dict(data.get("inputs") or {}),
            outputs=dict(data.get("outputs") or {}),
            delete_before_replace=bool(data.get("delete_before_replace", False)),
            delete=bool(data.get("delete", False)),
        )


@dataclass
class StackState:
    """Everything kept between runs of one stack."""

    project: str
    stack: str
    resources: list[ResourceState] = field(default_factory=list)
    outputs: PropertyMap = field(default_factory=dict)

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
    """Write the state atomically (rename over the old file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)

"""What the test engine reads from a project: Pulumi.yaml and Pulumi.<stack>.yaml."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class ProjectError(ValueError):
    """Pulumi.yaml or Pulumi.<stack>.yaml cannot be used by the test engine."""


def config_string(value: Any) -> str:
    """Config values reach programs and providers as strings; objects as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


@dataclass(frozen=True)
class Project:
    """What the test engine takes from Pulumi.yaml."""

    name: str
    root: Path
    #: The program's working directory (the ``main`` folder, or the project root).
    pwd: Path
    #: What the exec script runs: a directory holding ``__main__.py``, or a file.
    program: Path

    @classmethod
    def load(cls, program_dir: Path) -> Project:
        """Read Pulumi.yaml the way the CLI resolves ``runtime`` and ``main``."""
        root = Path(program_dir).resolve()
        path = root / "Pulumi.yaml"
        if not path.exists():
            raise ProjectError(f"no Pulumi.yaml in {root}")
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ProjectError(f"{path}: 'name' is required")
        runtime = data.get("runtime")
        runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
        if runtime_name != "python":
            raise ProjectError(f"{path}: runtime {runtime_name!r} is not 'python'")
        main = data.get("main")
        pwd, program = root, root
        if main is not None:
            program = (root / str(main)).resolve()
            if not program.is_relative_to(root):
                raise ProjectError(f"{path}: 'main' must be inside the project directory")
            if program.is_dir():
                pwd = program
            elif not program.exists():
                raise ProjectError(f"{path}: 'main' {main!r} does not exist")
        if program.is_dir() and not (program / "__main__.py").exists():
            raise ProjectError(f"no __main__.py in {program}")
        return cls(name=data["name"], root=root, pwd=pwd, program=program)

    def stack_config(self, stack: str) -> dict[str, str]:
        """Plain values from Pulumi.<stack>.yaml ``config:``, keys namespaced."""
        path = self.root / f"Pulumi.{stack}.yaml"
        if not path.exists():
            return {}
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        config = data.get("config") or {}
        if not isinstance(config, dict):
            raise ProjectError(f"{path}: 'config' must be a mapping")
        result = {}
        for key, value in config.items():
            if isinstance(value, dict) and "secure" in value:
                raise ProjectError(
                    f"{path}: {key}: encrypted 'secure:' values are not supported by the test "
                    "engine; pass the value in TestEngine(secret_config=...)"
                )
            result[self.qualify(str(key))] = config_string(value)
        return result

    def qualify(self, key: str) -> str:
        """``key`` -> ``<project>:key``; namespaced keys stay as they are."""
        return key if ":" in key else f"{self.name}:{key}"

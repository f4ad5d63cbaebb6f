"""Policy config as the engine reconciles it before Configure (defaults, initial, given)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .records import LEVELS, PackInfo, PolicyPackError


def _parse_config(config: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """A `--policy-pack-config` document: policy -> level string, or {enforcementLevel, ...}."""
    result: dict[str, tuple[str, dict[str, Any]]] = {}
    for key, value in config.items():
        if key == "environments":
            continue
        if isinstance(value, str):
            level, props = value, {}
        elif isinstance(value, Mapping):
            props = dict(value)
            level = props.pop("enforcementLevel", "")
        else:
            raise PolicyPackError(
                f'parsing "{key}": {value!r} is not a valid value; must be a string or object'
            )
        if level and level not in LEVELS:
            raise PolicyPackError(
                f'parsing enforcement level for "{key}": "{level}" is not a valid enforcement level'
            )
        if level or props:
            result[key] = (level, props)
    return result


def _apply(
    result: dict[str, tuple[str, dict[str, Any]]], given: Mapping[str, tuple[str, dict[str, Any]]]
) -> None:
    if "all" in given and given["all"][0]:
        for key, (_, props) in list(result.items()):
            result[key] = (given["all"][0], props)
    for key, (level, props) in given.items():
        old_level, old_props = result.get(key, ("", {}))
        result[key] = (level or old_level, {**old_props, **props})


def reconcile(
    pack: PackInfo, initial: Mapping[str, tuple[str, dict[str, Any]]], config: Mapping[str, Any]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Schema defaults < initial config < given config, then JSON-schema validation."""
    import jsonschema  # imported here: only a configured pack needs it

    result = {
        p.name: (
            p.enforcement_level,
            {k: v["default"] for k, v in p.config_schema.items() if "default" in v},
        )
        for p in pack.policies
    }
    _apply(result, initial)
    _apply(result, _parse_config(config))
    errors: list[str] = []
    for policy in pack.policies:
        schema: dict[str, Any] = {"type": "object", "properties": dict(policy.config_schema)}
        if policy.required:
            schema["required"] = list(policy.required)
        for err in jsonschema.Draft7Validator(schema).iter_errors(result[policy.name][1]):
            where = ".".join(str(p) for p in err.absolute_path)
            errors.append(
                f"validating policy config: {pack.name} {pack.version}  "
                f"{policy.name}: {where + ': ' if where else ''}{err.message}"
            )
    if errors:
        raise PolicyPackError("; ".join(sorted(errors)))
    return result

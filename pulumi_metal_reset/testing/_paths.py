"""Property paths as ``ignoreChanges`` and ``replaceOnChanges`` name them
(``sdk/go/common/resource/properties_path.go``: ``ParsePropertyPath``, ``Contains``, ``Reset``).

``a.b``, ``a["b.c"]``, ``a[0]`` and ``*`` (any key or index) are understood. Hand-written
because it must follow the engine's rules exactly, including which paths are "path errors".
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from ._wire import is_secret, make_secret

PathElement = str | int
_TOKEN = re.compile(r'\[(?:"((?:[^"\\]|\\.)*)"|(\d+)|(\*))\]|\.?([^.\[\]]+)')


def parse_path(text: str) -> list[PathElement] | None:
    """The elements of a path, or None when it does not parse."""
    elements: list[PathElement] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            return None
        quoted, index, star, plain = match.groups()
        if quoted is not None:
            elements.append(quoted.replace('\\"', '"'))
        elif index is not None:
            elements.append(int(index))
        elif star is not None:
            elements.append("*")
        else:
            elements.append(plain)
        position = match.end()
    return elements or None


def path_contains(path: list[PathElement], other: list[PathElement]) -> bool:
    """``PropertyPath.Contains``: ``path`` is a prefix of ``other``, ``*`` matching any key."""
    if len(other) < len(path):
        return False
    for mine, theirs in zip(path, other[: len(path)], strict=True):
        if isinstance(mine, int):
            if not isinstance(theirs, int) or isinstance(theirs, bool) or theirs != mine:
                return False
        elif mine != "*" and mine != theirs:
            return False
    return True


def _unwrap(value: Any) -> tuple[Any, bool]:
    if is_secret(value):
        inner, _ = _unwrap(value.get("value"))
        return inner, True
    return value, False


def _is_object(value: Any) -> bool:
    return isinstance(value, dict) and not is_secret(value)


def _reset(path: list[PathElement], old: Any, new: Any, old_secret: bool, new_secret: bool) -> bool:
    """``PropertyPath.reset``: set ``new`` at ``path`` to ``old``'s value there, in place."""
    if not path:
        return False
    old, was = _unwrap(old)
    old_secret = old_secret or was
    new, was = _unwrap(new)
    new_secret = new_secret or was

    def carried(value: Any) -> Any:
        return make_secret(value) if old_secret and not new_secret else value

    key, rest = path[0], path[1:]
    if isinstance(key, int):
        if key < 0:
            return False
        both = isinstance(old, list) and isinstance(new, list)
        if not rest:
            if not isinstance(old, list) and not isinstance(new, list):
                return True
            if not both:
                return False
            if key >= len(old) and key >= len(new):
                return True
            if key >= len(old) or key >= len(new):
                return False
            new[key] = carried(old[key])
            return True
        if not both:
            return not isinstance(old, list) and not isinstance(new, list)
        if key >= len(old) or key >= len(new):
            return False
        return _reset(rest, old[key], new[key], old_secret, new_secret)
    if key == "*":
        if not rest:
            if _is_object(new):
                if _is_object(old):
                    for k, v in old.items():
                        new[k] = carried(v)
                    for k in [k for k in new if k not in old]:
                        del new[k]
                return True
            if isinstance(new, list):
                if isinstance(old, list):
                    for i in range(min(len(old), len(new))):
                        new[i] = carried(old[i])
                    return len(old) == len(new)
                return True
            return False
        if _is_object(old) and _is_object(new):
            return all(
                k in new and _reset(rest, old[k], new[k], old_secret, new_secret) for k in old
            )
        if isinstance(old, list) and isinstance(new, list):
            ok = all(
                _reset(rest, old[i], new[i], old_secret, new_secret)
                for i in range(min(len(old), len(new)))
            )
            return ok and len(old) == len(new)
        return False
    if not rest:
        if _is_object(old) and key in old:
            if not _is_object(new):
                return False
            new[key] = carried(old[key])
        elif _is_object(new):
            new.pop(key, None)
        return True
    if not _is_object(old) or not _is_object(new):
        return not _is_object(old) and not _is_object(new)
    if key in old and key not in new:
        return False
    if key not in old and key not in new:
        return True
    return _reset(rest, old.get(key), new.get(key), old_secret, new_secret)


def process_ignore_changes(
    inputs: Mapping[str, Any], old_inputs: Mapping[str, Any], ignore_changes: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """``processIgnoreChanges``: ``inputs`` with every ignored path set back to its old value.

    Returns the new inputs and the paths that could not be reset (the engine reports those with
    an info message and goes on).
    """
    result = copy.deepcopy(dict(inputs))
    old = copy.deepcopy(dict(old_inputs))
    invalid = []
    for text in ignore_changes:
        path = parse_path(text)
        if path is None:
            continue
        if not _reset(path, old, result, False, False):
            invalid.append(text)
    return result, invalid

"""Pulumi's property-map diff, on wire values (``sdk/go/common/resource/properties_diff.go``).

The engine compares property maps in four places that matter to a test: the keys a preview
shows (``[diff: ~key]``), the keys it computes itself when a provider answers DIFF_UNKNOWN, the
plan check of ``pulumi up --plan`` and the ``--diff`` display. All four share these rules:

* a key whose value is null counts as absent (``HasValue``);
* objects and arrays are compared element by element; anything else by deep equality;
* a secret equals only a secret with an equal value;
* with ``include_unknowns`` (the plan check) an unknown equals anything, and an unknown that
  disappeared is not a delete.

Hand-written because no Python library implements the engine's rules; it is a direct
transcription of ``PropertyMap.diff``/``DiffIncludeUnknowns`` and ``DeepEquals``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._wire import is_secret, is_unknown, strip_secrets


@dataclass
class ValueDiff:
    """How one value changed; ``object``/``array`` are set when both sides are of that kind."""

    old: Any
    new: Any
    object: ObjectDiff | None = None
    array: ArrayDiff | None = None


@dataclass
class ArrayDiff:
    """Element-wise change of an array (indexes as keys)."""

    adds: dict[int, Any] = field(default_factory=dict)
    deletes: dict[int, Any] = field(default_factory=dict)
    sames: dict[int, Any] = field(default_factory=dict)
    updates: dict[int, ValueDiff] = field(default_factory=dict)

    def length(self) -> int:
        """One past the highest index mentioned."""
        keys = [*self.adds, *self.deletes, *self.sames, *self.updates]
        return max(keys) + 1 if keys else 0


@dataclass
class ObjectDiff:
    """Key-wise change of an object."""

    adds: dict[str, Any] = field(default_factory=dict)
    deletes: dict[str, Any] = field(default_factory=dict)
    sames: dict[str, Any] = field(default_factory=dict)
    updates: dict[str, ValueDiff] = field(default_factory=dict)

    def keys(self) -> list[str]:
        """Every key mentioned, sorted (the engine's ``StableKeys``)."""
        return sorted({*self.adds, *self.deletes, *self.sames, *self.updates})

    def changed_keys(self) -> list[str]:
        """Added, deleted and updated keys, sorted."""
        return sorted({*self.adds, *self.deletes, *self.updates})


def has_value(value: Any) -> bool:
    """The engine's ``HasValue``: anything but null."""
    return value is not None


def _is_object(value: Any) -> bool:
    return isinstance(value, dict) and not is_secret(value)


def deep_equals(old: Any, new: Any, *, include_unknowns: bool = False) -> bool:
    """``PropertyValue.DeepEquals`` (or ``DeepEqualsIncludeUnknowns``)."""
    if include_unknowns and (is_unknown(old) or is_unknown(new)):
        return True
    if isinstance(old, list):
        return (
            isinstance(new, list)
            and len(old) == len(new)
            and all(
                deep_equals(a, b, include_unknowns=include_unknowns)
                for a, b in zip(old, new, strict=True)
            )
        )
    if _is_object(old):
        return _is_object(new) and maps_equal(old, new, include_unknowns=include_unknowns)
    if is_secret(old):
        return is_secret(new) and deep_equals(
            old.get("value"), new.get("value"), include_unknowns=include_unknowns
        )
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    return bool(old == new) and not _is_object(new) and not is_secret(new)


def maps_equal(old: Mapping[str, Any], new: Mapping[str, Any], **options: bool) -> bool:
    """``PropertyMap.DeepEquals``: nulls count as absent."""
    for key in {*old, *new}:
        if key in old and key in new:
            if not deep_equals(old[key], new[key], **options):
                return False
        elif has_value(old.get(key)) or has_value(new.get(key)):
            return False
    return True


def diff_values(old: Any, new: Any, *, include_unknowns: bool = False) -> ValueDiff | None:
    """``PropertyValue.diff``: None when equal."""
    if isinstance(old, list) and isinstance(new, list):
        array = ArrayDiff()
        for i in range(len(old), len(new)):
            array.adds[i] = new[i]
        for i in range(len(new), len(old)):
            array.deletes[i] = old[i]
        for i in range(min(len(old), len(new))):
            inner = diff_values(old[i], new[i], include_unknowns=include_unknowns)
            if inner is None:
                array.sames[i] = old[i]
            else:
                array.updates[i] = inner
        if not (array.adds or array.deletes or array.updates):
            return None
        return ValueDiff(old, new, array=array)
    if _is_object(old) and _is_object(new):
        obj = diff_maps(old, new, include_unknowns=include_unknowns)
        return None if obj is None else ValueDiff(old, new, object=obj)
    if deep_equals(old, new, include_unknowns=include_unknowns):
        return None
    return ValueDiff(old, new)


def diff_maps(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    include_unknowns: bool = False,
    ignore_internal: bool = False,
) -> ObjectDiff | None:
    """``PropertyMap.Diff`` (or ``DiffIncludeUnknowns``): None when nothing was added, deleted or
    updated. ``ignore_internal`` hides ``__`` keys, as the display does."""
    diff = ObjectDiff()
    for key, old_value in old.items():
        if ignore_internal and key.startswith("__"):
            continue
        if key in new:
            inner = diff_values(old_value, new[key], include_unknowns=include_unknowns)
            if inner is None:
                diff.sames[key] = new[key] if include_unknowns else old_value
            elif not has_value(old_value):
                diff.adds[key] = new[key]
            elif not has_value(new[key]):
                diff.deletes[key] = old_value
            else:
                diff.updates[key] = inner
        elif include_unknowns and is_unknown(old_value):
            continue  # an unknown that resolved to nothing is neither a delete nor a same
        elif has_value(old_value):
            diff.deletes[key] = old_value
    for key, new_value in new.items():
        if ignore_internal and key.startswith("__"):
            continue
        if key not in old and has_value(new_value):
            diff.adds[key] = new_value
    if not (diff.adds or diff.deletes or diff.updates):
        return None
    return diff


def input_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> ObjectDiff | None:
    """What the engine computes when a provider answers DIFF_UNKNOWN: ``diffResource`` unwraps
    secrets, then ``PropertyMap.Diff`` with no key ignored (a changed ``__provider`` blob is a
    change too). Its ``changed_keys()`` are the changed keys; :func:`detailed_diff_paths`, the
    detailed diff."""
    return diff_maps(strip_secrets(dict(old)), strip_secrets(dict(new)))


def detailed_diff_paths(diff: ObjectDiff) -> list[list[str | int]]:
    """The paths of ``NewDetailedDiffFromObjectDiff`` (``plugin/provider.go``): every added,
    deleted or updated leaf, objects and arrays walked into. On DIFF_UNKNOWN
    ``applyReplaceOnChanges`` matches ``replace_on_changes`` against these, so ``tags.a``
    replaces on a change below ``tags``."""
    paths: list[list[str | int]] = []
    _object_paths([], diff, paths)
    return paths


def _object_paths(prefix: list[str | int], diff: ObjectDiff, out: list[list[str | int]]) -> None:
    """``objectDiffToDetailedDiff``."""
    for key, inner in diff.updates.items():
        _value_paths([*prefix, key], inner, out)
    out.extend([*prefix, key] for key in [*diff.adds, *diff.deletes])


def _value_paths(prefix: list[str | int], diff: ValueDiff, out: list[list[str | int]]) -> None:
    """``valueDiffToDetailedDiff`` and ``arrayDiffToDetailedDiff``."""
    if diff.object is not None:
        _object_paths(prefix, diff.object, out)
    elif diff.array is not None:
        for index, inner in diff.array.updates.items():
            _value_paths([*prefix, index], inner, out)
        out.extend([*prefix, index] for index in [*diff.array.adds, *diff.array.deletes])
    else:
        out.append(prefix)


def short_diff(
    old: Mapping[str, Any], new: Mapping[str, Any], *, hide_internal: bool = True
) -> list[str]:
    """The CLI's ``[diff: ...]`` entries in ``writeShortDiff``'s order: adds (``+key``), then
    deletes (``-key``), then updates (``~key``), each group sorted. Old inputs against new
    inputs as they are (``getDiffInfo``), ``__`` keys hidden unless ``hide_internal`` is off."""
    diff = diff_maps(old, new, ignore_internal=hide_internal)
    if diff is None:
        return []
    return (
        [f"+{k}" for k in sorted(diff.adds)]
        + [f"-{k}" for k in sorted(diff.deletes)]
        + [f"~{k}" for k in sorted(diff.updates)]
    )


def format_short_diff(marks: list[str]) -> str:
    """``+a,b-c~d``: each sign once, then its keys joined by commas (``writePropertyKeys``)."""
    text = ""
    previous = ""
    for mark in marks:
        sign, key = mark[0], mark[1:]
        text += ("," if sign == previous else sign) + key
        previous = sign
    return text

"""Diffing a registration against its old state, as the engine does before it picks a step.

``diffResource`` (``step_generator.go``): the provider's Diff and, on DIFF_UNKNOWN, the engine's
own input diff with its detailed-diff paths; ``applyReplaceOnChanges``: which changes replace;
``getDiffInfo`` (``pkg/backend/display/rows.go``): the ``[diff: ...]`` marks a step shows.
Used by registration (``_steps``) and by refresh (``_reads``).
"""

from __future__ import annotations

from dataclasses import replace

from ._paths import parse_path, path_contains, process_ignore_changes
from ._propdiff import detailed_diff_paths, input_diff, short_diff
from ._provider import DIFF_NONE, DIFF_SOME, DIFF_UNKNOWN, DiffAnswer, ProviderClient
from ._state import ResourceState
from ._wire import PropertyMap

__all__ = ["apply_replace_on_changes", "diff_resource", "display_diff"]


def diff_resource(
    provider: ProviderClient, old: ResourceState, news: PropertyMap, ignore_changes: list[str]
) -> DiffAnswer:
    """``diffResource``: the provider's Diff (``old``'s outputs and inputs against ``news``);
    on DIFF_UNKNOWN the engine's own diff of ``old``'s inputs against ``news`` after
    ``ignore_changes``, secrets unwrapped; with no change found, the provider's own keys stay,
    as upstream only sets them on a change. Used by registration and by refresh. A failed call
    raises ProviderError."""
    answer = provider.diff(old, news, ignore_changes)
    if answer.changes != DIFF_UNKNOWN:
        return answer
    ignored, _ = process_ignore_changes(news, old.inputs, ignore_changes)
    diff = input_diff(old.inputs, ignored)
    if diff is None:
        return replace(answer, changes=DIFF_NONE)
    return replace(
        answer,
        changes=DIFF_SOME,
        changed_keys=diff.changed_keys(),
        detailed_paths=detailed_diff_paths(diff),
    )


def display_diff(
    old: ResourceState,
    new: ResourceState,
    inputs: PropertyMap,
    include: list[str],
    *,
    detailed: bool = False,
) -> tuple[list[str], list[str]]:
    """``getDiffInfo``: old inputs against new inputs, ``~protect`` when protect changed, kept
    to the keys the diff reported when it reported any. With a detailed diff (the engine's own,
    on DIFF_UNKNOWN) it is ``TranslateDetailedDiff``'s, which hides no ``__`` key."""
    marks = short_diff(old.inputs, inputs, hide_internal=not detailed)
    if old.protect != new.protect:
        marks.append("~protect")
    if include:
        marks = [m for m in marks if m[1:] in include]
    return sorted({m[1:] for m in marks if m[1:] != "protect"}), marks


def apply_replace_on_changes(
    answer: DiffAnswer, replace_on_changes: list[str]
) -> tuple[list[str], bool]:
    """``applyReplaceOnChanges``: the replace keys (the provider's, plus changed keys under a
    path) and whether a detailed-diff entry under a path (the engine's own diff, on
    DIFF_UNKNOWN) makes the diff a replace (``DiffResult.Replace``)."""
    replace_keys = list(answer.replaces)
    if answer.changes != DIFF_SOME or not replace_on_changes:
        return replace_keys, False
    parsed = [p for p in (parse_path(t) for t in replace_on_changes) if p is not None]
    for key in answer.changed_keys:
        if any(path_contains(path, [key]) for path in parsed) and key not in replace_keys:
            replace_keys.append(key)
    detailed = any(path_contains(path, entry) for path in parsed for entry in answer.detailed_paths)
    return replace_keys, detailed

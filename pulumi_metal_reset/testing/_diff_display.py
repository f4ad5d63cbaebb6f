"""Property values and diffs printed as the CLI prints them, colours left out.

A transcription of ``pkg/backend/display/object_diff.go`` and the step rendering of ``diff.go``
(v3.259.0): ``getResourcePropertiesSummary``, ``getResourcePropertiesDetails``,
``printOldNewDiffs``, ``printPropertyValueDiff``, ``printPrimitivePropertyValue`` and
``getResourceOutputsPropertiesString``, as ``pulumi preview --diff`` and ``pulumi up --diff`` use
them. Secrets always print as ``[secret]`` (the CLI without ``--show-secrets``). Two things are
simplified: strings are quoted with JSON's escapes (Go's ``%q`` differs only for control
characters), and a multi-line string change is shown line by line without the CLI's context
trimming.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ._propdiff import ObjectDiff, ValueDiff, diff_maps
from ._wire import go_number, is_secret, is_unknown

RAW_PREFIX = {
    "same": "  ",
    "create": "+ ",
    "delete": "- ",
    "update": "~ ",
    "replace": "+-",
    "create-replacement": "++",
    "delete-replaced": "--",
    "refresh": "~ ",
    "import": "= ",
}


@dataclass(frozen=True)
class Printer:
    """``propertyPrinter``: where the next line is indented, under which op, with a prefix."""

    out: list[str]
    indent: int
    op: str
    prefix: bool = False
    planning: bool = False

    def indented(self, amount: int) -> Printer:
        return replace(self, indent=self.indent + amount)

    def with_op(self, op: str) -> Printer:
        return replace(self, op=op)

    def with_prefix(self, prefix: bool) -> Printer:
        return replace(self, prefix=prefix)

    def write(self, text: str) -> None:
        self.out.append(text)

    def write_indented(self, text: str) -> None:
        self.out.append(indentation(self.indent, self.op, self.prefix) + text)

    def write_unprefixed(self, text: str) -> None:
        self.out.append(indentation(self.indent, self.op, False) + text)


def indentation(indent: int, op: str, prefix: bool) -> str:
    """``getIndentationString``: four spaces a level, the last two replaced by the op's prefix."""
    result = "    " * indent
    if not prefix or not result:
        return result
    return result[:-2] + RAW_PREFIX.get(op, "  ")


def should_print(value: Any, outs: bool) -> bool:
    """``shouldPrintPropertyValue``: nulls, empty strings, arrays and objects are not shown."""
    if value is None:
        return False
    if isinstance(value, (str, list)) and len(value) == 0:
        return False
    return not (isinstance(value, dict) and not is_secret(value) and not value)


def _is_primitive(value: Any) -> bool:
    return not isinstance(value, (list, dict)) or is_secret(value)


def _decode(text: str) -> Any:
    """``decodeValue``: a string holding a JSON object or array (YAML is not attempted)."""
    try:
        value = json.loads(text.strip())
    except ValueError:
        return None
    return value if isinstance(value, (dict, list)) else None


def print_primitive(p: Printer, value: Any) -> None:
    """``printPrimitivePropertyValue``."""
    if value is None:
        p.write("<null>")
    elif is_secret(value):
        p.write("[secret]")
    elif is_unknown(value):
        p.write("[unknown]")
    elif isinstance(value, bool):
        p.write("true" if value else "false")
    elif isinstance(value, (int, float)):
        number = float(value)
        p.write(str(int(number)) if number.is_integer() else go_number(number))
    else:
        decoded = _decode(str(value))
        if decoded is not None:
            p.write("(json) ")
            print_value(p, decoded)
            return
        p.write(json.dumps(str(value), ensure_ascii=False))


def _print_value_recurse(p: Printer, value: Any) -> None:
    if _is_primitive(value):
        print_primitive(p, value)
    elif isinstance(value, list):
        if not value:
            p.write("[]")
            return
        p.write("[\n")
        for i, element in enumerate(value):
            p.write_indented(f"    [{i}]: ")
            print_value(p.indented(1), element)
        p.write_unprefixed("]")
    else:
        if not value:
            p.write("{}")
            return
        p.write("{\n")
        print_object(p.indented(1), value)
        p.write_unprefixed("}")


def print_value(p: Printer, value: Any) -> None:
    """``printPropertyValue``: the value and a newline."""
    _print_value_recurse(p, value)
    p.write("\n")


def print_object(p: Printer, props: Mapping[str, Any]) -> None:
    """``printObject``: every key but ``__`` ones, titles aligned."""
    keys = sorted(k for k in props if not k.startswith("__"))
    width = max((len(k) for k in sorted(props)), default=0)
    for key in keys:
        p.write_indented(f"{key:<{width}}: ")
        print_value(p, props[key])


Title = Callable[[Printer], None]


def _title(name: str, width: int) -> Title:
    return lambda p: p.write_indented(f"{name:<{width}}: ")


def _print_add(p: Printer, value: Any, title: Title) -> None:
    p = p.with_op("create").with_prefix(True)
    title(p)
    print_value(p, value)


def _print_delete(p: Printer, value: Any, title: Title) -> None:
    p = p.with_op("delete").with_prefix(True)
    title(p)
    print_value(p, value)


def _print_text_diff(p: Printer, old: str, new: str) -> None:
    old_value, new_value = _decode(old), _decode(new)
    if old_value is not None and new_value is not None:
        inner = diff_maps({"v": old_value}, {"v": new_value})
        p.write("(json) ")
        if inner is None:
            print_value(p.with_op("same"), old_value)
        else:
            _print_value_diff(p, lambda _: None, inner.updates["v"])
        return
    if "\n" not in old and "\n" not in new:
        p.write(json.dumps(old, ensure_ascii=False)[:-1] + '" => ')
        p.write(json.dumps(new, ensure_ascii=False) + "\n")
        return
    p.write("\n")
    lines = p.indented(1)
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        tag, text = line[:2], line[2:]
        if tag == "? " or not text.strip():
            continue
        op = {"+ ": "create", "- ": "delete"}.get(tag, "same")
        lines.with_op(op).with_prefix(op != "same").write_indented(text + "\n")


def _print_value_diff(p: Printer, title: Title, diff: ValueDiff) -> None:
    """``printPropertyValueDiff``."""
    p = p.with_op("update").with_prefix(True)
    if diff.array is not None:
        title(p)
        p.write("[\n")
        array = diff.array
        for i in range(array.length()):
            element = p.indented(2)

            def element_title(q: Printer, i: int = i) -> None:
                q.indented(-1).write_indented(f"[{i}]: ")

            if i in array.adds:
                _print_add(element, array.adds[i], element_title)
            elif i in array.deletes:
                _print_delete(element, array.deletes[i], element_title)
            elif i in array.updates:
                _print_value_diff(element, element_title, array.updates[i])
            elif i in array.sames:
                same = element.with_op("same").with_prefix(False)
                element_title(same)
                print_value(same, array.sames[i])
        p.write_unprefixed("]\n")
        return
    if diff.object is not None:
        title(p)
        p.write("{\n")
        print_object_diff(p.indented(1), diff.object, None)
        p.write_unprefixed("}\n")
        return
    old_shown, new_shown = should_print(diff.old, False), should_print(diff.new, False)
    if old_shown and new_shown and _is_primitive(diff.old) and _is_primitive(diff.new):
        title(p)
        if isinstance(diff.old, str) and isinstance(diff.new, str):
            _print_text_diff(p, diff.old, diff.new)
            return
        print_primitive(p.with_op("delete"), diff.old)
        p.write(" => ")
        print_primitive(p.with_op("create"), diff.new)
        p.write("\n")
        return
    if old_shown:
        _print_delete(p, diff.old, title)
    if new_shown:
        _print_add(p, diff.new, title)


def print_object_diff(p: Printer, diff: ObjectDiff, include: list[str] | None) -> None:
    """``printObjectDiff``: every key in order, added, deleted, updated or same."""
    keys = diff.keys()
    if include:
        keys = [k for k in keys if k in include]
    width = max((len(k) for k in keys), default=0)
    for key in keys:
        _print_property_diff(p, key, width, diff)


def print_old_new(
    p: Printer, olds: Mapping[str, Any], news: Mapping[str, Any], include: list[str] | None
) -> None:
    """``printOldNewDiffs``: the diff when there is one, else the new values as same."""
    diff = diff_maps(olds, news, ignore_internal=True)
    if diff is not None:
        print_object_diff(p.with_prefix(True), diff, include)
    else:
        print_object(p.with_op("same").with_prefix(True), news)


def outputs_text(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    inputs: Mapping[str, Any],
    *,
    indent: int,
    op: str,
    planning: bool,
    show_sames: bool,
) -> str:
    """``getResourceOutputsPropertiesString``: outputs that differ from the inputs of the same
    name, or from the old outputs; unknown stack outputs dropped from a preview's diff."""
    out: list[str] = []
    p = Printer(out, indent, op, planning=planning)
    diff = None
    if old is not None:
        diff = diff_maps(old, new, ignore_internal=True)
        if diff is not None and planning:
            for key in [k for k, d in diff.updates.items() if is_unknown(d.new)]:
                del diff.updates[key]
        if diff is None and not show_sames:
            return ""
    keys = diff.keys() if diff is not None else sorted(new)
    width = max((len(k) for k in keys), default=0)
    for key in keys:
        value = new.get(key)
        if diff is None and (key.startswith("__") or not should_print(value, True)):
            continue
        if key in inputs and diff_maps({"v": value}, {"v": inputs[key]}) is None:
            continue
        if diff is not None:
            if not show_sames and key in diff.sames:
                continue
            _print_property_diff(p, key, width, diff)
        else:
            p.write_indented(f"{key:<{width}}: ")
            print_value(p, value)
    return "".join(out)


def _print_property_diff(p: Printer, key: str, width: int, diff: ObjectDiff) -> None:
    """``printObjectPropertyDiff``: one key of an object diff (inputs or outputs)."""
    title = _title(key, width)
    if key in diff.adds:
        _print_add(p, diff.adds[key], title)
    elif key in diff.deletes:
        _print_delete(p, diff.deletes[key], title)
    elif key in diff.updates:
        _print_value_diff(p, title, diff.updates[key])
    elif should_print(diff.sames[key], p.planning):
        same = p.with_op("same").with_prefix(False)
        same.write_indented(f"{key:<{width}}: ")
        print_value(same, diff.sames[key])

"""Make a command's output safe to report: one bounded line with no secret in it.

Pure string logic. Hand-written: no well-kept library removes *known* secret values, and their
fragments, from free text. The guarantee is checked, not hoped for: if any fragment of a secret
survives (say, a redaction marker that completes one), the whole text is withheld.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote

__all__ = [
    "MARKER",
    "MAX_CHARS",
    "MIN_FRAGMENT",
    "WINDOW",
    "WITHHELD",
    "leaks",
    "one_line",
    "scrub",
]

MARKER = "[redacted]"
WITHHELD = "(output withheld: it could not be cleaned of the password)"
MAX_CHARS = 300
#: Any run of this many characters (or the whole secret, if shorter) taken from a secret counts
#: as a leak: a tool that echoes half a password leaks it too.
MIN_FRAGMENT = 8
#: Only the end of a longer text is read: where tools put the error, and bounded work.
WINDOW = 16 * 1024

# CSI sequences (colours, cursor moves) and OSC sequences (window titles, links).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
_SPACES = re.compile(r" {2,}")


def _blank(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] == "C" or category in ("Zl", "Zp", "Zs")


def _collapse(text: str) -> str:
    text = _ANSI.sub(" ", text)
    return _SPACES.sub(" ", "".join(" " if _blank(ch) else ch for ch in text))


def one_line(text: str) -> str:
    """Escape sequences, control characters and line breaks become single spaces."""
    return _collapse(text).strip()


def _forms(secrets: Iterable[str]) -> set[str]:
    """Each secret as it may appear in output: raw, collapsed, JSON-escaped, percent-encoded."""
    forms: set[str] = set()
    for secret in secrets:
        if secret:
            forms.update((secret, _collapse(secret), json.dumps(secret)[1:-1], quote(secret)))
    forms.discard("")
    return forms


def _grams(form: str) -> tuple[int, set[str]]:
    size = min(len(form), MIN_FRAGMENT)
    return size, {form[i : i + size] for i in range(len(form) - size + 1)}


def _redact(text: str, forms: set[str]) -> str:
    marked = [False] * len(text)
    for form in forms:
        size, grams = _grams(form)
        for start in range(len(text) - size + 1):
            if text[start : start + size] in grams:
                marked[start : start + size] = [True] * size
    out: list[str] = []
    for index, ch in enumerate(text):
        if not marked[index]:
            out.append(ch)
        elif index == 0 or not marked[index - 1]:
            out.append(MARKER)
    return "".join(out)


def leaks(text: str, secrets: Iterable[str]) -> bool:
    """True when the text holds any secret, or a fragment of one (see MIN_FRAGMENT)."""
    for form in _forms(secrets):
        size, grams = _grams(form)
        if any(text[i : i + size] in grams for i in range(len(text) - size + 1)):
            return True
    return False


def scrub(text: str | bytes, secrets: Iterable[str], limit: int = MAX_CHARS) -> str:
    """One line of at most `limit` characters holding no secret and no fragment of one.

    Redacts before and after collapsing the text to one line (a secret may span a line break),
    keeps the end of a long text (where tools put the error), and withholds everything when a
    fragment would survive anyway.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    secrets = [s for s in secrets if s]
    forms = _forms(secrets)
    if len(text) > WINDOW:
        # Drop as much again as the longest secret: a secret cut at the window's edge leaves
        # a piece there too short to be recognised.
        text = text[-WINDOW + max(map(len, forms), default=0) :]
    line = one_line(_redact(one_line(_redact(text, forms)), forms))
    if leaks(line, secrets):
        # Even the notice must fit and leak nothing (a one-letter "secret" is in every word).
        fitting = (WITHHELD, "(withheld)", "")
        return next(t for t in fitting if len(t) <= limit and not leaks(t, secrets))
    if len(line) > limit:
        line = "…" + line[-(limit - 1) :].lstrip()
    return line

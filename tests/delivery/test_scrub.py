"""The scrubber: one bounded line, and no secret (nor a fragment of one) ever comes out."""

from __future__ import annotations

import string
import unicodedata

from hypothesis import assume, given
from hypothesis import strategies as st

from pulumi_metal_reset.delivery.scrub import (
    MARKER,
    MAX_CHARS,
    MIN_FRAGMENT,
    WINDOW,
    WITHHELD,
    leaks,
    one_line,
    scrub,
)

PASSWORD = "Pw-planted-7Qx!r9#Lm2$vT8&kZ"
TOKEN = "tok-PLANTED-abc123"


def _single_line(text: str) -> bool:
    return all(
        unicodedata.category(ch)[0] != "C" and unicodedata.category(ch) not in ("Zl", "Zp")
        for ch in text
    )


def test_error_output_becomes_one_clean_line() -> None:
    raw = f"\x1b[31mError:\x1b[0m refused value {PASSWORD}\r\n  token {TOKEN}\n\ttry again\n"
    assert scrub(raw.encode(), [PASSWORD, TOKEN]) == (
        f"Error: refused value {MARKER} token {MARKER} try again"
    )


def test_fragments_and_encodings_of_the_password_are_removed() -> None:
    half = PASSWORD[: len(PASSWORD) // 2]
    out = scrub(f"got {half}... and %s" % PASSWORD.replace("#", "%23"), [PASSWORD])
    assert half not in out
    assert not leaks(out, [PASSWORD])
    out = scrub('{"value": "' + PASSWORD.replace("$", "\\u0024") + '"}', [PASSWORD])
    assert not leaks(out, [PASSWORD])


def test_a_password_split_by_a_line_break_is_still_found() -> None:
    secret = "abcdef ghijkl"  # with a space, printed across two lines: no piece is 8 long
    out = scrub("value: abcdef\nghijkl end", [secret])
    assert out == f"value: {MARKER} end"


def test_long_output_keeps_its_end_within_the_bound() -> None:
    out = scrub("noise " * 1000 + "the real error", [PASSWORD])
    assert len(out) <= MAX_CHARS
    assert out.endswith("the real error")
    assert out.startswith("…")


def test_huge_output_is_cut_without_leaving_a_piece_of_a_secret_at_the_cut() -> None:
    text = "x" * (3 * WINDOW) + PASSWORD[3:] + "y" * (WINDOW - len(PASSWORD) + 5)
    out = scrub(text, [PASSWORD])
    assert not leaks(out, [PASSWORD])
    assert PASSWORD[3 : 3 + MIN_FRAGMENT] not in out


def test_a_marker_that_would_complete_a_secret_withholds_everything() -> None:
    assert scrub("the word redacted appears", ["redacted"]) == WITHHELD
    assert scrub("value: [redacted]!", ["[redacted]!"]) == WITHHELD


def test_the_withheld_notice_itself_fits_and_leaks_nothing() -> None:
    assert scrub("a", ["a"], 20) == "(withheld)"  # the long notice has an "a"
    assert scrub("e", ["e"], 20) == ""  # and the short one an "e"


# --- properties ------------------------------------------------------------------------------

SECRET = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and s != "")
ANY_TEXT = st.text(max_size=300)


@given(ANY_TEXT, SECRET, ANY_TEXT, st.lists(SECRET, max_size=2))
def test_no_fragment_of_any_secret_survives(
    before: str, secret: str, after: str, others: list[str]
) -> None:
    out = scrub(before + secret + after, [secret, *others])
    assert not leaks(out, [secret, *others])
    assert secret not in out


@given(ANY_TEXT, st.lists(SECRET, max_size=3), st.integers(min_value=20, max_value=400))
def test_output_is_one_bounded_line(text: str, secrets: list[str], limit: int) -> None:
    out = scrub(text, secrets, limit)
    assert len(out) <= limit
    assert _single_line(out)
    assert out == out.strip()
    assert "  " not in out


@given(st.binary(max_size=300), SECRET)
def test_any_bytes_are_read(raw: bytes, secret: str) -> None:
    out = scrub(raw + secret.encode() + raw, [secret])
    assert not leaks(out, [secret])


SAFE = st.text(string.ascii_lowercase + " \n\t", max_size=200)
UPPER_SECRET = st.text(string.ascii_uppercase + string.digits, min_size=MIN_FRAGMENT, max_size=30)


@given(SAFE, UPPER_SECRET)
def test_text_without_the_secret_is_only_made_one_line(text: str, secret: str) -> None:
    assume(len(one_line(text)) <= MAX_CHARS)
    assert scrub(text, [secret]) == " ".join(text.split())


@given(ANY_TEXT, st.lists(SECRET, max_size=2))
def test_scrubbing_twice_changes_nothing(text: str, secrets: list[str]) -> None:
    once = scrub(text, secrets)
    assert scrub(once, secrets) == once

"""The local gate for openssl: skipped with a reason here, a failure where CI requires it."""

from __future__ import annotations

import pytest

from tests.delivery.support import REQUIRE, need


def test_nothing_missing_passes() -> None:
    need([], "pass gnupg")


def test_a_missing_tool_skips_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in REQUIRE:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(pytest.skip.Exception, match="pass not installed"):
        need(["pass"], "pass gnupg")


@pytest.mark.parametrize("name", REQUIRE)
def test_a_missing_tool_fails_where_ci_requires_it(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    for other in REQUIRE:
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv(name, "1")
    with pytest.raises(pytest.fail.Exception, match=f"must be installed here \\({name}=1\\)"):
        need(["gpg"], "pass gnupg")

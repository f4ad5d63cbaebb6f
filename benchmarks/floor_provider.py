"""The memory floor of the libraries issue 12 keeps: the bare provider, importing them.

`LibraryFloorProvider` is `BareProvider` plus, at the calls where ours first needs them, the
imports ours cannot do without: pydantic-core and email-validator at the first Check, requests
at the first Create. It uses none of them, so its peak RSS through the server is what the kept
libraries cost before any provider code runs, and the gap between it and 1.2x bare is all that
the goal leaves for the provider's own modules and work (diagnosis (c), `memory_floor`).
Importable, so dill pickles it by reference, as it does the others.
"""

from __future__ import annotations

import importlib
from typing import Any

from bare_provider import BareProvider
from pulumi.dynamic import CheckResult, CreateResult

__all__ = ["FIRST_CHECK_IMPORTS", "FIRST_CREATE_IMPORTS", "LibraryFloorProvider"]

#: What our provider's first Check and first Create import from the libraries it keeps.
FIRST_CHECK_IMPORTS = ("pydantic_core", "email_validator")
FIRST_CREATE_IMPORTS = ("requests",)


class LibraryFloorProvider(BareProvider):
    """Bare, plus the kept libraries' imports; their code never runs."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        for name in FIRST_CHECK_IMPORTS:
            importlib.import_module(name)
        return super().check(olds, news)

    def create(self, props: dict[str, Any]) -> CreateResult:
        for name in FIRST_CREATE_IMPORTS:
            importlib.import_module(name)
        return super().create(props)

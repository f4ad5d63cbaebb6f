"""Delivery tests: a real password store (Debian's `pass` over GnuPG) in a throw-away folder.

Tests that need `pass` and `gpg` carry the shared `secret_store` marker (tests/conftest.py), so
they skip with the reason where the tools are missing and fail where CI requires them. The store
fixtures live in `store.py`, registered once for the whole suite by tests/conftest.py.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def password() -> str:
    """A password as the API returns one, planted so every test can look for it."""
    return "Pw-planted-7Qx!r9#Lm2$vT8&kZ"

"""credential_id, and one rotation per API user per provider process (issue 8 §6)."""

from __future__ import annotations

import hashlib
import hmac
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulumi_metal_reset.credentials import CREDENTIAL_CONTEXT, RotationClaims, credential_id
from pulumi_metal_reset.errors import SharedCredentialError


def test_credential_id_is_the_documented_hmac() -> None:
    """README: "cred-" + the first 16 hex digits of HMAC-SHA256(key=context, message=token)."""
    assert CREDENTIAL_CONTEXT == b"pulumi-metal-reset/credential_id/v1"
    expected = hmac.new(b"pulumi-metal-reset/credential_id/v1", b"tok-1", hashlib.sha256)
    assert credential_id("tok-1") == "cred-" + expected.hexdigest()[:16]
    assert (
        credential_id("metal-emulator-dev-token")
        == "cred-"
        + (
            hmac.new(CREDENTIAL_CONTEXT, b"metal-emulator-dev-token", hashlib.sha256).hexdigest()[
                :16
            ]
        )
    )


@given(st.text(min_size=1, max_size=64))
def test_credential_id_is_stable_short_and_holds_no_token(token: str) -> None:
    cid = credential_id(token)
    assert cid == credential_id(token)
    assert len(cid) == len("cred-") + 16
    assert int(cid[5:], 16) >= 0
    if len(token) >= 4:
        assert token not in cid[5:]


def test_different_tokens_get_different_ids() -> None:
    assert len({credential_id(f"tok-{n}") for n in range(1000)}) == 1000


def test_a_second_resource_on_one_credential_is_refused() -> None:
    claims = RotationClaims()
    claims.claim("cred-a", "id-1", "first@example.com")
    claims.claim("cred-a", "id-1", "first@example.com")  # the same resource again: fine
    claims.claim("cred-b", "id-2", "second@example.com")  # another user: fine
    with pytest.raises(SharedCredentialError) as caught:
        claims.claim("cred-a", "id-3", "third@example.com")
    message = str(caught.value)
    assert "first@example.com" in message
    assert "cred-a" in message
    assert "stopped before any request" in message
    assert message.count(". ") == 0
    assert message.endswith(".")


def test_a_released_claim_can_be_taken() -> None:
    claims = RotationClaims()
    claims.claim("cred-a", "id-1", "first@example.com")
    claims.release("cred-a", "id-2")  # not the holder: no effect
    with pytest.raises(SharedCredentialError):
        claims.claim("cred-a", "id-2", "second@example.com")
    claims.release("cred-a", "id-1")
    claims.claim("cred-a", "id-2", "second@example.com")


def test_exactly_one_of_many_threads_wins_a_credential() -> None:
    claims = RotationClaims()
    start = threading.Barrier(8)

    def attempt(n: int) -> bool:
        start.wait()
        try:
            claims.claim("cred-shared", f"id-{n}", f"u{n}@example.com")
        except SharedCredentialError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        won = list(pool.map(attempt, range(8)))
    assert won.count(True) == 1

"""Which API user a resource rotates: a pseudonymous id per token, one rotation per user per run.

A rotation resets the password of the user who owns the API token, so two resources on one token
make each other's recorded `new_password` stale. `credential_id` lets the audit and the policy pack
find such pairs across runs and stacks; `RotationClaims` stops the second one within a run.

The id is "cred-" plus the first 16 hex digits of HMAC-SHA256 keyed with `CREDENTIAL_CONTEXT`
over the token. The fixed, published key makes it reproducible anywhere (the audit can compute it
from a token it holds); the hash of a long random API key, cut to 64 bits, recovers nothing. No
Pulumi, no HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from typing import Final

from pulumi_metal_reset.errors import SharedCredentialError

__all__ = ["CREDENTIAL_CONTEXT", "RotationClaims", "credential_id"]

CREDENTIAL_CONTEXT: Final = b"pulumi-metal-reset/credential_id/v1"


def credential_id(token: str) -> str:
    """`cred-` and 16 hex digits: the same token always gives the same id."""
    digest = hmac.new(CREDENTIAL_CONTEXT, token.encode("utf-8"), hashlib.sha256).hexdigest()
    return "cred-" + digest[:16]


class RotationClaims:
    """The resources that rotated each API user in this provider process, which serves one run.

    The provider server calls one provider from up to four threads, so claims are made under a
    lock: of two resources on one token, exactly one rotates and the other fails before any
    request. A claim is dropped again when its rotation certainly did not happen.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders: dict[str, tuple[str, str]] = {}

    def claim(self, credential: str, resource_id: str, email: str) -> None:
        """Record that `resource_id` (mailing `email`) rotates `credential`'s user in this run.

        Raise SharedCredentialError when another resource already did; the same resource may
        claim again (a test driving several runs through one provider does).
        """
        with self._lock:
            holder = self._holders.setdefault(credential, (resource_id, email))
        if holder[0] != resource_id:
            raise SharedCredentialError(
                f"This rotation was stopped before any request: the resource that mails "
                f"{holder[1]} already rotated the password of the same API user ({credential}) "
                "in this run, and a second reset would make its new_password stale; give each "
                "PasswordResetToken its own user's API token."
            )

    def holder(self, credential: str) -> str | None:
        """The resource that rotated `credential`'s user in this run, if one did."""
        with self._lock:
            held = self._holders.get(credential)
        return None if held is None else held[0]

    def release(self, credential: str, resource_id: str) -> None:
        """Forget a claim whose rotation certainly did not happen, so another may rotate."""
        with self._lock:
            if self._holders.get(credential, (None,))[0] == resource_id:
                del self._holders[credential]

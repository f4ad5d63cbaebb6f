"""HTTP client for Equinix Metal's two password-reset calls; knows nothing of Pulumi.

`MetalClient(connection)` takes a `Connection` from `settings.connection_for` and validates
nothing again. A package, not one module, so that this import path stays while its three jobs
live apart: `_client` sends, `_transport` keeps the pooled session and its retry policy, and
`_outcomes` maps answers and transport failures to `errors` (pure functions).

Every failure is one of the exceptions in `errors`, raised `from None` with one sentence; a
token or password never appears in a message, a repr or a log record.
"""

from __future__ import annotations

from pulumi_metal_reset.client._client import USER_AGENT, MetalClient
from pulumi_metal_reset.client._transport import POOL_MAXSIZE

__all__ = ["POOL_MAXSIZE", "USER_AGENT", "MetalClient"]

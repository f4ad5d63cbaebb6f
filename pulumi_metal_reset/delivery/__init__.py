"""Write-only delivery: a rotated password goes straight to the user's secret store.

Layers, each importing only those before it: `models` (pydantic validation of `deliver_to`),
`scrub` and `ledger` (pure text and fingerprints), `outcome` (the pure never-lose-a-password
decisions), `sinks` (the command and file I/O, with retries), `lifecycle` (the calls the
provider makes). No module here imports Pulumi or an HTTP library. Attributes load lazily, so the
provider process pays for none of this until a resource uses it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "fingerprint": "pulumi_metal_reset.delivery.ledger",
    "describe": "pulumi_metal_reset.delivery.ledger",
    "validate_delivery_inputs": "pulumi_metal_reset.delivery.models",
    "DeliveryError": "pulumi_metal_reset.delivery.errors",
}

__all__ = [
    "DeliveryError",
    "describe",
    "fingerprint",
    "validate_delivery_inputs",
]

if TYPE_CHECKING:
    from pulumi_metal_reset.delivery.errors import DeliveryError
    from pulumi_metal_reset.delivery.ledger import describe, fingerprint
    from pulumi_metal_reset.delivery.models import validate_delivery_inputs


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pulumi_metal_reset.delivery' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

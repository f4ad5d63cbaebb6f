"""Declarative Equinix Metal password-reset tokens and password rotation for Pulumi.

Attributes are loaded lazily so that the provider process, which imports this package to unpickle
its provider, does not pay for modules its first call does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pulumi_metal_reset._version import __version__

_LAZY = {
    "PasswordResetToken": "pulumi_metal_reset.resource",
    "PasswordResetTokenProvider": "pulumi_metal_reset.provider",
    "deliver": "pulumi_metal_reset.deliver",  # a module: deliver.command(...), deliver.file(...)
}

__all__ = ["PasswordResetToken", "PasswordResetTokenProvider", "__version__"]

if TYPE_CHECKING:
    from pulumi_metal_reset.provider import PasswordResetTokenProvider
    from pulumi_metal_reset.resource import PasswordResetToken


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pulumi_metal_reset' has no attribute {name!r}")
    loaded = importlib.import_module(module)
    return loaded if loaded.__name__ == f"{__name__}.{name}" else getattr(loaded, name)

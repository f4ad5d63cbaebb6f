"""Exports the Python type a program sees for rotation_count, next to the value itself."""

import pulumi

from pulumi_metal_reset import PasswordResetToken

config = pulumi.Config()
reset = PasswordResetToken(
    "counted",
    email="ops@example.com",
    rotate_on_create=True,
    rotation_triggers={"ticket": config.get("ticket") or "SEC-1"},
)
pulumi.export("countType", reset.rotation_count.apply(lambda count: type(count).__name__))
pulumi.export("countRepr", reset.rotation_count.apply(repr))

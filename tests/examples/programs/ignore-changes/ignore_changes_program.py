"""A schedule under ignore_changes: the engine applies it before `check`, which reads the clock."""

import pulumi

from pulumi_metal_reset import PasswordResetToken

config = pulumi.Config()
reset = PasswordResetToken(
    "ignored",
    email="ops@example.com",
    rotate_every=config.get("rotateEvery") or "30d",
    opts=pulumi.ResourceOptions(ignore_changes=["rotate_every", "rotation_slot"]),
)
pulumi.export("rotateEvery", reset.rotate_every)
pulumi.export("rotationCount", reset.rotation_count)

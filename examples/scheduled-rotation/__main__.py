"""Rotate on a schedule and on demand: `rotate_every` plus `rotation_triggers`."""

import pulumi

from pulumi_metal_reset import PasswordResetToken

config = pulumi.Config()

reset = PasswordResetToken(
    "ci-bot",
    email=config.get("email") or "ci-bot@example.com",
    rotate_every=config.get("rotateEvery") or "30d",
    rotation_triggers={
        # Bump after a suspected leak: any change rotates on the next `pulumi up`.
        "incident": config.get("incident") or "none",
        "owner": "platform-team",
    },
)

pulumi.export("rotateEvery", reset.rotate_every)
pulumi.export("rotationSlot", reset.rotation_slot)
pulumi.export("nextRotationAt", reset.next_rotation_at)
pulumi.export("rotationCount", reset.rotation_count)
pulumi.export("password", reset.new_password)

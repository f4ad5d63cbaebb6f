"""Two password-reset tokens; config sets their inputs and the resource options under test."""

import pulumi

from pulumi_metal_reset import PasswordResetToken

config = pulumi.Config()


def names(key: str) -> list[str] | None:
    """A comma-separated config value as a list of property names (None when unset)."""
    value = config.get(key)
    return None if value is None else [n for n in value.split(",") if n]


ops = PasswordResetToken(
    "ops",
    email=config.get("email") or "ops@example.com",
    rotate_every=config.get("rotateEvery"),
    rotation_triggers={"ticket": config.get("ticket") or "SEC-1"},
    rotate_on_create=config.get_bool("rotateOnCreate"),
    opts=pulumi.ResourceOptions(
        protect=config.get_bool("protect"),
        ignore_changes=names("ignore"),
        replace_on_changes=names("replaceOn"),
    ),
)
ci = PasswordResetToken(
    "ci",
    email="ci@example.com",
    rotation_triggers={"ticket": config.get("ciTicket") or "SEC-1"},
)

pulumi.export("email", ops.email)
pulumi.export("password", ops.new_password)
pulumi.export("rotationCount", ops.rotation_count)
pulumi.export("rotationSlot", ops.rotation_slot)
pulumi.export("nextRotationAt", ops.next_rotation_at)
pulumi.export("ciRotationCount", ci.rotation_count)

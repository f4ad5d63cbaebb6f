"""One password-reset token as a reviewer meets it; stack config sets every input.

Config: `email`, `rotateEvery` (unset: no schedule), `ticket` (the trigger `ticket`; "" for no
trigger), `releaseKey` (secret: a second trigger), `rotateOnCreate` (the first token only),
and `second` (a second token on the same API token, as two resources sharing one API user).
"""

import pulumi

from pulumi_metal_reset import PasswordResetToken

config = pulumi.Config()
ticket = config.get("ticket")
triggers: dict[str, pulumi.Input[str]] = {"ticket": "SEC-1" if ticket is None else ticket}
if not triggers["ticket"]:
    triggers = {}
release = config.get_secret("releaseKey")
if release is not None:
    triggers["release"] = release


def token(name: str, email: str, rotate_on_create: bool | None) -> PasswordResetToken:
    return PasswordResetToken(
        name,
        email=email,
        rotate_every=config.get("rotateEvery"),
        rotation_triggers=triggers,
        rotate_on_create=rotate_on_create,
    )


admin = token("admin", config.get("email") or "ops@example.com", config.get_bool("rotateOnCreate"))
if config.get_bool("second"):
    # Never rotated on create: two rotations of one API user in one run fail by design.
    token("backup", "backup@example.com", None)

pulumi.export("password", admin.new_password)
pulumi.export("rotationCount", admin.rotation_count)
pulumi.export("nextRotationAt", admin.next_rotation_at)

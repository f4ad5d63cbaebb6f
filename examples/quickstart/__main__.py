"""The smallest useful stack: mail a reset token, rotate the API user's password, export it.

Change `rotationTicket` in the stack config (`pulumi config set rotationTicket SEC-2`) and the
next `pulumi up` rotates the password again; `pulumi preview` shows `[diff: ~rotation_triggers]`.
"""

import pulumi

from pulumi_metal_reset import PasswordResetToken

config = pulumi.Config()

reset = PasswordResetToken(
    "ops",
    email=config.get("email") or "ops+metal@example.com",
    rotate_on_create=True,
    rotation_triggers={"ticket": config.get("rotationTicket") or "initial"},
)

pulumi.export("email", reset.email)
pulumi.export("rotationCount", reset.rotation_count)
pulumi.export("password", reset.new_password)  # always a secret: printed as [secret]

"""Write-only rotation: the new password goes straight to a secret store, never into state.

`pulumi up` runs `pass insert` with the password on standard input (never in argv, the
environment or a log). The store's own settings, PASSWORD_STORE_DIR and GNUPGHOME, come from the
environment that runs `pulumi up`. Consumers read the password from the store
(`pass show metal/ops`); the stack keeps only a fingerprint of it and where it went. With the
config `secretFile` set, the password goes to that file instead (mode 0600, replaced atomically).
"""

import pulumi

from pulumi_metal_reset import PasswordResetToken, deliver

config = pulumi.Config()
secret_file = config.get("secretFile")
target = (
    deliver.file(secret_file)
    if secret_file
    else deliver.command(
        ["pass", "insert", "--multiline", "--force", config.get("passEntry") or "metal/ops"]
    )
)

credential = PasswordResetToken(
    "metal",
    email=config.get("email") or "ops@example.com",
    rotate_on_create=True,
    rotation_triggers={"ticket": config.get("rotationTicket") or "initial"},
    deliver_to=target,
    store_password=False,  # new_password stays None once the store holds the password
)

pulumi.export("delivery", credential.delivery)
pulumi.export("passwordFingerprint", credential.password_fingerprint)
pulumi.export("deliveredAt", credential.delivered_at)
pulumi.export("deliveryPending", credential.delivery_pending)
pulumi.export("rotationCount", credential.rotation_count)

"""Write-only delivery: the rotated password goes to `deliverTo` (a command or a file) and,
with `storePassword` false, nowhere in the stack. Every value comes from the stack config."""

import pulumi

from pulumi_metal_reset import PasswordResetToken, deliver

config = pulumi.Config()
path = config.get("path")
if path is not None:
    target = deliver.file(path)
else:
    target = deliver.command(
        config.require_object("argv"),
        env=config.get_object("env") or {},
        timeout=config.get_float("timeout") or 60,
    )

token = PasswordResetToken(
    "ops",
    email="ops@example.com",
    rotate_on_create=True,
    rotation_triggers={"ticket": config.get("ticket") or "initial"},
    deliver_to=target,
    store_password=config.get_bool("storePassword") or False,
)

# new_password is not exported: the test reads the state instead. (pulumi SDKs before 3.260, the
# floor, put stack outputs, secrets in the clear, in a debug log line.)
kept = token.new_password.apply(lambda password: password is not None)
pulumi.export("passwordKept", pulumi.Output.unsecret(kept))
pulumi.export("fingerprint", token.password_fingerprint)
pulumi.export("delivery", token.delivery)
pulumi.export("deliveredAt", token.delivered_at)
pulumi.export("deliveryPending", token.delivery_pending)
pulumi.export("rotationHistory", token.rotation_history)
pulumi.export("deliverTo", token.deliver_to)
pulumi.export("storePassword", token.store_password)

"""Three tokens covering 0.1.0's state shapes; it wrote tests/provider/data/state-0.1.0.json."""

import pulumi

from pulumi_metal_reset import PasswordResetToken

config = pulumi.Config()
PasswordResetToken(
    "scheduled",
    email="Ops+Metal@EXAMPLE.com",
    rotate_every="30d",
    rotation_triggers={"ticket": config.get("ticket") or "SEC-1", "owner": "platform"},
    rotate_on_create=True,
)
PasswordResetToken("plain", email="plain@bücher.example")
PasswordResetToken(
    "with-token",
    email="ops@example.com",
    rotate_every=3600,
    auth_token=config.require_secret("apiToken"),
    api_url=config.require("apiUrl"),
)

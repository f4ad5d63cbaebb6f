"""The API token passed as a resource input, read here from (secret) stack config."""

import pulumi

from pulumi_metal_reset import PasswordResetToken

config = pulumi.Config()

reset = PasswordResetToken(
    "with-token",
    email="ops@example.com",
    auth_token=config.require("apiToken"),
    api_url=config.require("apiUrl"),
    rotate_on_create=True,
)

pulumi.export("password", reset.new_password)

"""A rotated password flows, as a secret and without plaintext, into a local secret-store file."""

import pulumi
from secret_store import MetalCredentialFile

config = pulumi.Config()

credential = MetalCredentialFile(
    "metal",
    email=config.get("email") or "ops@example.com",
    path=config.require("secretFile"),
    ticket=config.get("rotationTicket") or "initial",
)

pulumi.export("secretFile", credential.path)
pulumi.export("rotationCount", credential.rotation_count)

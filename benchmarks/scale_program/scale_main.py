"""`count` PasswordResetTokens with distinct emails: the scaling benchmark's program."""

import pulumi

from pulumi_metal_reset import PasswordResetToken

count = pulumi.Config().require_int("count")
for n in range(count):
    PasswordResetToken(f"r{n}", email=f"user{n}@example.com")

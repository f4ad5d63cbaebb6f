"""`metal-reset audit`: findings on PasswordResetToken resources across exported stacks.

Reads the files `pulumi stack export` writes; makes no network call and imports neither Pulumi
nor the HTTP client. `rules` is shared with the policy pack in `policy/`.
"""

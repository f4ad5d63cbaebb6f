"""Where a rotated password goes: `deliver.command(...)` or `deliver.file(...)` for `deliver_to`.

Both return plain data (a map with a `kind` key), so the destination is recorded in the stack's
state and shown by `pulumi preview`, for reviewers to see where a password goes. It is recorded
in plain text: name places, never credentials. A command inherits the environment that runs
`pulumi up`, which is where a store's own credentials (VAULT_TOKEN, AWS_PROFILE, ...) belong.

    PasswordResetToken(
        "ops",
        email="ops@example.com",
        deliver_to=deliver.command(["pass", "insert", "--multiline", "--force", "metal/ops"]),
        store_password=False,
    )
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["command", "file"]


def command(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = 60
) -> dict[str, Any]:
    """Run `argv` with the password on standard input (exactly its bytes, no newline added).

    The password is never in `argv` or the environment. Exit status 0 means delivered; standard
    error is reported with the password removed. `argv[0]` is a program on PATH or an absolute
    path; `env` is added to the provider's environment; `timeout` (seconds) bounds each attempt,
    after which the command's whole process group is killed.
    """
    # A string is a Sequence too: list() would split it into characters. Left as it is, it is
    # refused with the provider's own sentence.
    listed = argv if isinstance(argv, (str, bytes)) else list(argv)
    return _checked({"kind": "command", "argv": listed, "env": dict(env or {}), "timeout": timeout})


def file(path: str, *, mode: int = 0o600) -> dict[str, Any]:
    """Write the password (exactly its bytes, no newline) to `path`, replacing it atomically.

    The file has `mode` from its first byte. Group bits are accepted when given (0o640 lets a
    service group read it); bits for other users never are.
    """
    return _checked({"kind": "file", "path": path, "mode": mode})


def _plain(value: Any) -> bool:
    """True for data that can be checked now; a Pulumi Output is checked by the provider later."""
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    """Fail at the line that built a wrong delivery, with the provider's own sentences."""
    if not _plain(data):
        return data
    from pulumi_metal_reset.delivery.models import validate_target

    checked, failures = validate_target(data)
    if failures or checked is None:
        raise ValueError(" ".join(f"{f.reason}." for f in failures)) from None
    return checked

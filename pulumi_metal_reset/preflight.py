"""What `check` judges about the coming run's API calls, without making one.

Two questions, both answered from the checked inputs, the provider config and the environment:
which API token the resource uses (as `credential_id`), and whether the settings a coming call
needs are usable, with the very sentence `up` would fail with. Both resolve settings through
`settings.token_for` and `settings.connection_for` only, so precedence and validation live in
one place. No Pulumi, no HTTP: nothing here opens a connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from pulumi_metal_reset import rotation
from pulumi_metal_reset.credentials import credential_id
from pulumi_metal_reset.endpoint import DEFAULT_API_URL
from pulumi_metal_reset.errors import ConfigurationError
from pulumi_metal_reset.settings import connection_for, token_for
from pulumi_metal_reset.state import CheckedInputs
from pulumi_metal_reset.unknowns import UNKNOWN_SENTINEL, is_unknown

__all__ = ["credential_for", "settings_problem"]

#: Stand-in for a token input that is still unknown in a preview: it will win over config and
#: environment at `up`, so those are not judged, and its own value is checked once known.
_PENDING_TOKEN: Final = "pending-token"  # noqa: S105 (a placeholder)


def credential_for(
    values: Mapping[str, Any], config: Mapping[str, Any], environ: Mapping[str, Any]
) -> str | None:
    """`credential_id` of the token a call would use: input, then config, then environment.

    Unknown while the token input is; None when no token is set anywhere.
    """
    token = values.get("auth_token")
    if is_unknown(token):
        return UNKNOWN_SENTINEL
    try:
        # Only the token is resolved, so no other setting is judged here.
        found, _source = token_for(values, config, environ)
    except ConfigurationError:
        return None
    return credential_id(found.get_secret_value())


def settings_problem(
    old: CheckedInputs | None,
    values: Mapping[str, Any],
    failed_fields: Iterable[str],
    config: Mapping[str, Any],
    environ: Mapping[str, Any],
) -> str | None:
    """The sentence `up` would fail with when the coming `up` calls the API; else None.

    A create (`old` is None) always calls it; an update when the email changed or a rotation is
    due or triggered. When failed inputs or unknown values hide that, nothing is judged; and a
    setting that an input overrides, known or not, never is.
    """
    failed = set(failed_fields)
    if failed & {"auth_token", "api_url"}:
        return None  # their own failure says what is wrong; config behind them is overridden
    if old is not None:
        if failed or any(is_unknown(values.get(key)) for key in rotation.COMPARED):
            return None
        if not rotation.plan_rotation(old, CheckedInputs.from_wire(values)).calls_api:
            return None
    inputs = {"auth_token": values.get("auth_token"), "api_url": values.get("api_url")}
    if is_unknown(inputs["auth_token"]):
        inputs["auth_token"] = _PENDING_TOKEN
    if is_unknown(inputs["api_url"]):
        inputs["api_url"] = DEFAULT_API_URL
    try:
        connection_for(inputs, config, environ)
    except ConfigurationError as err:
        return str(err)
    return None

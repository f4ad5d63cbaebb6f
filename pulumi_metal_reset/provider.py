"""The dynamic provider: composes validation, schedule, settings and the HTTP client.

Its import path, `pulumi_metal_reset.provider.PasswordResetTokenProvider`, is a public contract:
every stack's state refers to it through the pickled `__provider` input, so moving or renaming
the class breaks `refresh` and `destroy` of existing stacks. The instance holds nothing when it is
pickled; settings are read in `configure`, inside the provider process.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

from pulumi_metal_reset import rotation, schedule
from pulumi_metal_reset.errors import (
    AmbiguousOutcomeError,
    ConfigurationError,
    MetalApiError,
    MetalResetError,
    RotationAfterCreateError,
)
from pulumi_metal_reset.inputs import UNKNOWN, validate_inputs
from pulumi_metal_reset.settings import CONFIG_KEYS, ENV_KEYS, connection_for, hide_tokens

if TYPE_CHECKING:
    from pulumi_metal_reset.client import MetalClient

__all__ = ["PasswordResetTokenProvider"]

PROVIDER_KEY = "__provider"


def _environment() -> dict[str, Any]:
    return hide_tokens({key: os.environ[key] for key in ENV_KEYS if key in os.environ})


def _now() -> int:
    return int(time.time())


def _marked(value: Any) -> Any:
    """Replace the SDK's `Unknown` objects (how preview unknowns arrive) with the wire sentinel.

    Validation and the rotation predicate then see one plain marker, and returning it from
    `check` serializes back to an unknown.
    """
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _marked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_marked(v) for v in value]
    return value


class PasswordResetTokenProvider(ResourceProvider):
    """Create = POST /reset-password (mails a token); a rotating update = DELETE /reset-password.

    Errors are re-raised as `raise err.with_traceback(None) from None`: the engine prints the
    traceback, so the frames below and the chained cause are dropped and its last line is the
    one clean sentence, with nothing the request carried.
    """

    # Filled by `configure`, in the provider process only; never pickled (see __getstate__).
    _config: dict[str, Any] | None = None
    _environ: dict[str, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickle as a bare reference even after `configure`: the config holds the API token."""
        return {}

    def configure(self, req: ConfigureRequest) -> None:
        """Runs once per provider process; config values arrive as strings with namespaced keys.

        Nothing is validated here: a setting is checked when a call needs it, with its source.
        """
        self._config = hide_tokens({key: req.config.get(key) for key in CONFIG_KEYS})
        self._environ = _environment()

    def _client(self, props: Mapping[str, Any]) -> MetalClient:
        # Imported on first use: requests and urllib3 are only needed when a call is made.
        from pulumi_metal_reset.client import MetalClient

        if self._config is None:  # never configured, as under pulumi's mocks
            self._config, self._environ = {}, _environment()
        try:
            return MetalClient(connection_for(props, self._config, self._environ or {}))
        except ConfigurationError as err:
            raise err.with_traceback(None) from None

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate every input and derive `rotation_slot`, the only place that reads the clock.

        `olds` are the old *inputs*; the engine sends none when it re-checks a replacement.
        """
        olds, news = _marked(olds), _marked(news)
        checked, failures = validate_inputs(news)
        if any(f.property == "rotate_every" for f in failures):
            checked["rotation_slot"] = None
        else:
            checked["rotation_slot"] = rotation.derive_slot(olds, checked["rotate_every"], _now())
        return CheckResult(checked, [CheckFailure(f.property, f.reason) for f in failures])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Pure: `olds` are the recorded outputs, since the server drops the old inputs.

        A changed email replaces the resource (a new token, a new schedule), unless a rotation
        is also due: the engine re-checks a replacement without its old state, which would lose
        that rotation, so the change is then made in place (POST for the new email, DELETE).
        """
        decision = rotation.decide(_marked(olds), _marked(news))
        return DiffResult(
            changes=decision.changes,
            replaces=["email"] if decision.replace and not decision.rotate else [],
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = self._client(props)
        email = props["email"]
        try:
            client.create_password_reset_token(email)
        except MetalResetError as err:
            raise err.with_traceback(None) from None
        outs = _schedule_outputs(props) | {
            "email": email,
            "requested_at": schedule.format_timestamp(_now()),
            "rotation_count": 0,
            "rotated_at": None,
            "rotation_reason": None,
            "new_password": None,
        }
        if props.get("rotate_on_create"):
            outs |= _rotated_after_mail(client, outs, email, "rotate_on_create")
        return CreateResult(str(uuid.uuid4()), outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Rotate when `diff`'s predicate says so; otherwise record the new schedule only."""
        decision = rotation.decide(olds, news)
        outs = {k: v for k, v in olds.items() if k != PROVIDER_KEY}
        outs |= _schedule_outputs(news)
        if not decision.rotate:
            return UpdateResult(outs)
        client = self._client(news)
        reason = "; ".join(decision.reasons)
        if decision.replace:  # an email change made in place, see `diff`
            email = news["email"]
            try:
                client.create_password_reset_token(email)
            except MetalResetError as err:
                raise err.with_traceback(None) from None
            outs |= {"email": email, "requested_at": schedule.format_timestamp(_now())}
            outs |= _rotated_after_mail(client, outs, email, reason)
            return UpdateResult(outs)
        try:
            outs |= _rotated(client, outs, reason)
        except MetalResetError as err:
            raise err.with_traceback(None) from None
        return UpdateResult(outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The API has no way to read a token or a password back: keep the recorded state."""
        return ReadResult(id_, props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """The API cannot revoke a reset token or undo a reset: deleting only forgets the state."""


def _schedule_outputs(news: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "rotation_triggers": dict(news.get("rotation_triggers") or {}),
        "rotate_every": news.get("rotate_every"),
        "rotation_slot": news.get("rotation_slot"),
        "next_rotation_at": rotation.next_rotation_at(news),
    }


def _rotated(client: MetalClient, outs: Mapping[str, Any], reason: str) -> dict[str, Any]:
    new = client.reset_password()
    return {
        "new_password": new.new_password.get_secret_value(),
        "rotated_at": schedule.format_timestamp(_now()),
        "rotation_count": int(outs.get("rotation_count") or 0) + 1,
        "rotation_reason": reason,
    }


def _rotated_after_mail(
    client: MetalClient, outs: Mapping[str, Any], email: str, reason: str
) -> dict[str, Any]:
    """Rotate right after a POST succeeded; a failure cannot leave half a change recorded."""
    try:
        return _rotated(client, outs, reason)
    except MetalApiError as err:
        raise RotationAfterCreateError(
            f"A reset token was mailed to {email}, but the rotation after it failed "
            f"({_cause(err)}); Pulumi cannot record a half-done change, so the next "
            "`pulumi up` mails a new token and rotates again."
        ) from None


def _cause(err: MetalApiError) -> str:
    """A short phrase for an error quoted inside another sentence: no advice of its own."""
    kind = type(err).__name__.removesuffix("Error")
    detail = f"HTTP {err.status}" if err.status is not None else "no response"
    if isinstance(err, AmbiguousOutcomeError):
        return f"{kind}, {detail}: the password may already have been reset"
    return f"{kind}, {detail}"

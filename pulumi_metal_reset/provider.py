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
from typing import TYPE_CHECKING, Any, NoReturn

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
    ConfigurationError,
    MetalApiError,
    MetalResetError,
    RotationAfterCreateError,
)
from pulumi_metal_reset.inputs import UNKNOWN, validate_inputs
from pulumi_metal_reset.settings import (
    Connection,
    ProviderSettings,
    connection_for,
    resolve_settings,
)

if TYPE_CHECKING:
    from pulumi_metal_reset.client import MetalClient

__all__ = ["CONFIG_KEYS", "PasswordResetTokenProvider"]

PROVIDER_KEY = "__provider"
CONFIG_KEYS = (
    "equinix:authToken",
    "equinix:endpoint",
    "equinix:requestTimeout",
    "equinix:maxRetries",
    "equinix:maxRetryWaitSeconds",
)


def _reraise(err: MetalResetError) -> NoReturn:
    # The engine prints the traceback: drop the frames below and the chained cause so the last
    # line is the one clean sentence and nothing the request carried can show.
    raise err.with_traceback(None) from None


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
    """Create = POST /reset-password (mails a token); a rotating update = DELETE /reset-password."""

    _settings: ProviderSettings | None = None
    _settings_error: ConfigurationError | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickle as a bare reference even after `configure`: settings hold the API token."""
        return {}

    def configure(self, req: ConfigureRequest) -> None:
        """Runs once per provider process; config values arrive as strings with namespaced keys."""
        config = {key: req.config.get(key) for key in CONFIG_KEYS}
        try:
            self._settings = resolve_settings(config, os.environ)
        except ConfigurationError as err:
            self._settings_error = err

    def _resolved(self) -> ProviderSettings:
        if self._settings_error is not None:
            _reraise(ConfigurationError(str(self._settings_error)))
        if self._settings is None:  # configure was never called, as under pulumi's mocks
            self.configure(ConfigureRequest(_EmptyConfig()))  # type: ignore[arg-type]
            return self._resolved()
        return self._settings

    def _client(self, props: Mapping[str, Any]) -> MetalClient:
        # Imported on first use: requests and urllib3 are only needed when a call is made.
        from pulumi_metal_reset.client import MetalClient

        try:
            conn: Connection = connection_for(self._resolved(), props)
        except ConfigurationError as err:
            _reraise(err)
        return MetalClient(
            conn.api_url,
            conn.token.get_secret_value(),
            token_source=conn.token_source,
            api_url_source=conn.api_url_source,
            timeout=conn.timeout,
            max_retries=conn.max_retries,
            max_retry_wait=conn.max_retry_wait,
        )

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate every input and derive `rotation_slot`, the only place that reads the clock."""
        self._resolved()
        olds, news = _marked(olds), _marked(news)
        checked, failures = validate_inputs(news)
        if not any(f.property == "rotate_every" for f in failures):
            checked["rotation_slot"] = rotation.derive_slot(olds, checked["rotate_every"], _now())
        else:
            checked["rotation_slot"] = None
        return CheckResult(checked, [CheckFailure(f.property, f.reason) for f in failures])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Pure: `olds` are the recorded outputs, since the server drops the old inputs."""
        decision = rotation.decide(_marked(olds), _marked(news))
        return DiffResult(
            changes=decision.changes,
            replaces=["email"] if decision.replace else [],
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = self._client(props)
        email = props["email"]
        try:
            client.create_password_reset_token(email)
        except MetalResetError as err:
            _reraise(err)
        outs = _schedule_outputs(props) | {
            "email": email,
            "requested_at": schedule.format_timestamp(_now()),
            "rotation_count": 0,
            "rotated_at": None,
            "rotation_reason": None,
            "new_password": None,
        }
        if props.get("rotate_on_create"):
            try:
                outs |= _rotated(client, outs, "rotate_on_create")
            except MetalApiError as err:
                _reraise(
                    RotationAfterCreateError(
                        f"A reset token was mailed to {email}, but the rotation that "
                        f"rotate_on_create asks for failed: {err} Pulumi cannot record a "
                        "half-created resource, so the next `pulumi up` mails a new token and "
                        "rotates again."
                    )
                )
        return CreateResult(str(uuid.uuid4()), outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Rotate when `diff`'s predicate says so; otherwise record the new schedule only."""
        decision = rotation.decide(olds, news)
        outs = {k: v for k, v in olds.items() if k != PROVIDER_KEY}
        outs |= _schedule_outputs(news)
        if decision.rotate:
            client = self._client(news)
            try:
                outs |= _rotated(client, outs, "; ".join(decision.reasons))
            except MetalResetError as err:
                _reraise(err)
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


class _EmptyConfig:
    def get(self, _key: str) -> None:
        return None

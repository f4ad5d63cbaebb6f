"""The dynamic provider: composes validation, schedule, settings and the HTTP client.

Its import path, `pulumi_metal_reset.provider.PasswordResetTokenProvider`, is a public contract:
every stack's state refers to it through the pickled `__provider` input, so moving or renaming
the class breaks `refresh` and `destroy` of existing stacks. The instance holds nothing when it is
pickled; settings are read in `configure`, inside the provider process.
"""

from __future__ import annotations

import functools
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from pulumi import log
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

from pulumi_metal_reset import preflight, reset, rotation, schedule
from pulumi_metal_reset.credentials import RotationClaims, credential_id
from pulumi_metal_reset.errors import ConfigurationError, MetalResetError
from pulumi_metal_reset.inputs import api_address, validate_inputs
from pulumi_metal_reset.operations import CREATE_TOKEN
from pulumi_metal_reset.settings import (
    CONFIG_KEYS,
    ENV_KEYS,
    Connection,
    connection_for,
    hide_tokens,
    token_for,
)
from pulumi_metal_reset.state import DELIVERY_INPUT_NAMES, CheckedInputs, Outputs
from pulumi_metal_reset.unknowns import UNKNOWN_SENTINEL, is_unknown

if TYPE_CHECKING:
    from pulumi_metal_reset.client import MetalClient
    from pulumi_metal_reset.connection import SecretValue

__all__ = ["PasswordResetTokenProvider"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

_CLAIMS_LOCK = threading.Lock()


def _environment() -> dict[str, Any]:
    return hide_tokens({key: os.environ[key] for key in ENV_KEYS if key in os.environ})


def _now() -> int:
    return int(time.time())


def _timestamp() -> str:
    return schedule.format_timestamp(_now())


def _marked(value: Any) -> Any:
    """Replace the SDK's `Unknown` objects (how preview unknowns arrive) with the wire sentinel.

    Validation and the rotation decision then see one plain marker, and returning it from
    `check` serializes back to an unknown.
    """
    if isinstance(value, Unknown):
        return UNKNOWN_SENTINEL
    if isinstance(value, dict):
        return {k: _marked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_marked(v) for v in value]
    return value


def _sent(props: dict[str, Any]) -> dict[str, Any]:
    """`props` without its None values: the server's `rpc.serialize_properties` drops a property
    that serializes to None anyway, so the engine gets the same map. Two thirds of a create's
    outputs are None, and the server would serialize each of them first."""
    return {key: value for key, value in props.items() if value is not None}


def _error_boundary(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """The one exit for this package's errors from every provider method.

    The dynamic-provider server sends `traceback.format_exc()` to the engine, which prints it.
    Re-raised without its frames and without its cause, an error shows as one frame and its one
    sentence: no client frames, nothing the request carried.
    """

    @functools.wraps(method)
    def bounded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except MetalResetError as err:
            raise err.with_traceback(None) from None

    return bounded


def _client(connection: Connection) -> MetalClient:
    """The one place a client is built, on first use: requests loads only when a call is made."""
    from pulumi_metal_reset.client import MetalClient

    return MetalClient(connection)


class PasswordResetTokenProvider(ResourceProvider):
    """Create = POST /reset-password (mails a token); a rotating update = DELETE /reset-password.

    Every method goes through `_error_boundary`, so each failure reaches the user as one frame
    and one clean sentence.
    """

    # Filled in the provider process only; never pickled (see __reduce__).
    _config: dict[str, Any] | None = None
    _environ: dict[str, Any] | None = None
    _claims: RotationClaims | None = None

    def __reduce__(self) -> tuple[type[PasswordResetTokenProvider], tuple[()]]:
        """Pickle as "call the class with no arguments", with no state, even after `configure`.

        The config holds the API token, so nothing of the instance is pickled. No state dict
        either: Pulumi's `serialize_provider` (Python SDK 3.272) wraps the pickler's
        `_batch_setitems` once more on every call and never restores it, so every dict it
        pickles later recurses through one wrapper per resource registered before, and a
        program of ~1000 resources fails with RecursionError. Blobs of 0.1.0 (NEWOBJ, then an
        empty dict to BUILD) still load: they give the same empty, unconfigured instance.
        """
        return (type(self), ())

    @_error_boundary
    def configure(self, req: ConfigureRequest) -> None:
        """Runs once per provider process; config values arrive as strings with namespaced keys.

        Nothing is judged here: a setting is checked when a call needs it, with its source.
        """
        self._config = hide_tokens({key: req.config.get(key) for key in CONFIG_KEYS})
        self._environ = _environment()

    def _settings(self) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        if self._config is None:  # never configured, as under pulumi's mocks
            self._config, self._environ = {}, _environment()
        return self._config, self._environ or {}

    def _connection(self, inputs: Mapping[str, Any]) -> Connection:
        config, environ = self._settings()
        return connection_for(inputs, config, environ)

    def _rotation_claims(self) -> RotationClaims:
        with _CLAIMS_LOCK:
            if self._claims is None:
                self._claims = RotationClaims()
            return self._claims

    @_error_boundary
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate every input and derive `rotation_slot` and `credential_id`.

        `olds` are the old *inputs*; the engine sends none for a create and when it re-checks
        a replacement. A pure function of the inputs, the old inputs, the config and the slot
        on the grid (see schedule.py), so preview and up agree as update plans require.
        """
        olds, news = _marked(olds), _marked(news)
        values, failures = validate_inputs(news)
        if any(news.get(key) is not None for key in DELIVERY_INPUT_NAMES):
            # Imported here: the delivery models are built only for a resource that delivers,
            # so the provider process's first call stays cheap.
            from pulumi_metal_reset.delivery.models import validate_delivery_inputs

            delivery, delivery_failures = validate_delivery_inputs(news)
            values.update(delivery)
            failures.extend(delivery_failures)
        old = CheckedInputs.from_wire(olds) if olds.get("email") else None
        config, environ = self._settings()
        values["rotation_slot"] = self._slot(old, values["rotate_every"])
        values["credential_id"] = preflight.credential_for(values, config, environ)
        result = [CheckFailure(f.property, f.reason) for f in failures]
        failed = (f.field for f in failures)
        problem = preflight.settings_problem(old, values, failed, config, environ)
        if problem is not None:
            result.append(CheckFailure("", problem))
        return CheckResult(_sent(values), result)

    def _slot(self, old: CheckedInputs | None, rotate_every: Any) -> str | None:
        if rotate_every is None:  # unset, or invalid (then a failure says so)
            return None
        if is_unknown(rotate_every):
            return UNKNOWN_SENTINEL
        period = schedule.parse_duration(rotate_every)
        slot = rotation.derive_slot(old, period, _now())
        if slot.reanchored_from is not None:
            # The provider server ignores the engine address, so this goes to its stderr, which
            # the CLI shows as a plain line; the `schedule_note` output keeps it with the resource.
            log.warn(rotation.reanchor_note(slot.reanchored_from, slot.start, period))
        return schedule.format_timestamp(slot.start)

    @_error_boundary
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Pure: `olds` are the recorded outputs, since the server drops the old inputs.

        Never a replace: an email change is made in place (POST for the new address), so the
        verdict does not depend on the day, `protect` is not involved, and the schedule, the
        count and the recorded password carry over.
        """
        news = _marked(news)
        if any(is_unknown(news.get(key)) for key in (*rotation.COMPARED, *DELIVERY_INPUT_NAMES)):
            return DiffResult(changes=True, replaces=[], delete_before_replace=False)
        plan = rotation.plan_rotation(Outputs.from_wire(olds), CheckedInputs.from_wire(news))
        # A password waiting in state for its sink is a change although no input changed.
        changes = plan.changes or reset.redelivery_reason(olds, news) is not None
        return DiffResult(changes=changes, replaces=[], delete_before_replace=False)

    @_error_boundary
    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = CheckedInputs.from_wire(props)
        connection = self._connection(props)
        client = _client(connection)
        resource_id = str(uuid.uuid4())
        outs = Outputs(email=inputs.email).echoing(inputs)
        if not inputs.rotate_on_create:
            return CreateResult(resource_id, _sent(_mailed(client, outs, inputs.email).to_wire()))
        turn = _turn(resource_id, "rotate_on_create", connection)
        with self._claim(connection, resource_id, inputs.email):
            outs = _mailed_and_rotated(client, outs, inputs.email, turn)
        return CreateResult(resource_id, _sent(outs.to_wire()))

    @_error_boundary
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Mail when the email changed, rotate when `diff`'s decision says so, deliver a
        password waiting in state, else record."""
        old, new = Outputs.from_wire(olds), CheckedInputs.from_wire(news)
        plan = rotation.plan_rotation(old, new)
        note = None
        if plan.reanchored_from is not None and new.rotation_slot and new.rotate_every:
            note = rotation.reanchor_note(plan.reanchored_from, new.rotation_slot, new.rotate_every)
        outs = replace(old.echoing(new), schedule_note=note)
        if not plan.rotate:
            # A rotation supersedes a waiting password; without one, deliver it (or carry it).
            outs = reset.settled_without_rotation(
                id_, olds, news, outs, hide=lambda: self._tokens(news), clock=_now
            )
        if not plan.calls_api:
            return UpdateResult(_sent(outs.to_wire()))
        connection = self._connection(news)
        client = _client(connection)
        if not plan.rotate:
            return UpdateResult(_sent(_mailed(client, outs, new.email).to_wire()))
        turn = _turn(id_, "; ".join(plan.reasons), connection)
        with self._claim(connection, id_, new.email):
            if plan.email_changed:
                outs = _mailed_and_rotated(client, outs, new.email, turn)
            else:
                outs = reset.rotated(_reset(client), outs, turn)
        return UpdateResult(_sent(outs.to_wire()))

    def _tokens(self, inputs: Mapping[str, Any]) -> list[str]:
        """The API token, if one is set, for scrubbing from what a delivery command prints."""
        config, environ = self._settings()
        try:
            return [token_for(inputs, config, environ)[0].get_secret_value()]
        except ConfigurationError:
            return []  # a redelivery needs no API call, so no token either

    @contextmanager
    def _claim(self, connection: Connection, resource_id: str, email: str) -> Iterator[None]:
        """Hold this run's one rotation of the token's user, claimed before any request."""
        claims = self._rotation_claims()
        credential = credential_id(connection.token.get_secret_value())
        claims.claim(credential, resource_id, email)
        try:
            yield
        except MetalResetError as err:
            # Certainly not rotated: another resource may rotate. The POST comes before the
            # DELETE, so a failed POST, even an ambiguous one, sent no DELETE.
            if not err.ambiguous or err.operation is CREATE_TOKEN:
                claims.release(credential, resource_id)
            raise

    @_error_boundary
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The API has no way to read a token or a password back: keep the recorded state."""
        return ReadResult(id_, props)

    @_error_boundary
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """The API cannot revoke a reset token or undo a reset: deleting forgets the state, once
        a password still waiting for its sink (`delivery_pending`) has reached it."""
        if not props.get("delivery_pending"):
            return  # nothing waits: forgetting the state is the whole delete
        outs = Outputs.from_wire(props)
        # Deletes run after the run's creates and updates: if another resource rotated this
        # API user in this run, the waiting password is no longer the API's.
        credential = outs.credential_id
        holder = None if credential is None else self._rotation_claims().holder(credential)
        reset.delivered_before_delete(
            id_,
            outs,
            superseded=holder is not None and holder != id_,
            hide=lambda: self._tokens(props),
            clock=_now,
            warn=log.warn,
        )


def _mailed(client: MetalClient, outs: Outputs, email: str) -> Outputs:
    """POST /reset-password for `email` (the API gets the domain's ASCII form), then record it."""
    client.create_password_reset_token(api_address(email))
    return replace(outs, email=email, requested_at=_timestamp())


def _mailed_and_rotated(
    client: MetalClient, outs: Outputs, email: str, turn: reset.Turn
) -> Outputs:
    """Mail, then rotate at once: the sink is checked first, so a broken one mails nothing."""
    reset.check_sink(outs.deliver_to)
    return reset.rotated_after_mail(_reset(client), _mailed(client, outs, email), turn)


def _reset(client: MetalClient) -> Callable[[], SecretValue]:
    """The DELETE, as the rotation calls it: the new password, or the client's error."""
    return lambda: client.reset_password().new_password


def _turn(resource_id: str, reason: str, connection: Connection) -> reset.Turn:
    # The provider server ignores the engine address, so a warning goes to its stderr, which
    # the CLI shows; `delivery_pending` keeps the fact with the resource.
    hide = (connection.token.get_secret_value(),)
    return reset.Turn(resource_id, reason, hide, _now, log.warn)

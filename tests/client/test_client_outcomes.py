"""The mapping of answers to results and errors, as pure functions: no socket needed.

The socket-level tests (test_client_errors) prove the client sends and reads as it should; these
prove the rules over every status and every body, which no scripted server could cover.
"""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from pulumi_metal_reset.client import _outcomes
from pulumi_metal_reset.errors import (
    AmbiguousOutcomeError,
    AmbiguousResponseError,
    InvalidRequestError,
    MetalApiError,
    RateLimitedError,
    ServerError,
    UnauthorizedError,
    UnexpectedResponseError,
)
from pulumi_metal_reset.operations import CREATE_TOKEN, RESET_PASSWORD

from .conftest import connection
from .support import PASSWORD, TOKEN

CONN = connection(api_url="https://api.example.test", token=TOKEN, max_retries=2)
BODIES = st.none() | st.binary(max_size=64) | st.just(json.dumps({"error": TOKEN}).encode())


@given(st.integers(100, 999), st.sampled_from([CREATE_TOKEN, RESET_PASSWORD]), BODIES)
def test_every_status_maps_to_one_sentence(status: int, op: object, body: bytes | None) -> None:
    """http.client reads any three-digit status and hands on informational ones but 100; only
    a refusal may say the request did not take effect."""
    assert op is CREATE_TOKEN or op is RESET_PASSWORD
    error = _outcomes.status_error(op, status, body, CONN)
    message = str(error)
    assert isinstance(error, MetalApiError)
    assert (error.status, error.operation) == (status, op)
    assert message.endswith(".")
    assert "\n" not in message
    assert TOKEN not in message
    carried_out = status < 200 or status >= 600 or status == 303
    assert error.ambiguous is (carried_out or (500 <= status < 600 and status not in (501, 503)))
    assert isinstance(error, AmbiguousOutcomeError) is error.ambiguous
    if error.ambiguous:
        assert op.if_ambiguous in message
    expected = {401: UnauthorizedError, 403: UnauthorizedError, 422: InvalidRequestError}
    expected |= {429: RateLimitedError, 501: ServerError, 503: ServerError}
    if status in expected:
        assert type(error) is expected[status]
    elif carried_out:
        assert type(error) is AmbiguousResponseError
    elif not error.ambiguous:
        assert type(error) is UnexpectedResponseError


@given(st.integers(200, 299), BODIES)
def test_any_2xx_creates(status: int, body: bytes | None) -> None:
    assert _outcomes.created(status, body, CONN) is None


@given(st.integers(100, 599).filter(lambda s: not 200 <= s < 300))
def test_anything_else_does_not_create(status: int) -> None:
    error = _outcomes.created(status, b"", CONN)
    assert error is not None
    assert error.operation is CREATE_TOKEN


def test_a_reset_answer_yields_the_password_only_when_readable() -> None:
    good = json.dumps({"new_password": PASSWORD}).encode()
    result = _outcomes.new_password(201, good, CONN)
    assert not isinstance(result, MetalApiError)
    assert result.new_password.get_secret_value() == PASSWORD
    for body in (b"", b"{}", b'{"new_password": ""}', b"not json", good[:-3]):
        error = _outcomes.new_password(201, body, CONN)
        assert isinstance(error, UnexpectedResponseError)
        assert PASSWORD not in str(error)
    broke = _outcomes.new_password(201, None, CONN)
    assert isinstance(broke, AmbiguousOutcomeError)
    assert isinstance(_outcomes.new_password(204, good, CONN), UnexpectedResponseError)


@given(st.integers(200, 299), BODIES)
def test_a_reset_the_api_accepted_without_a_readable_password_is_ambiguous(
    status: int, body: bytes | None
) -> None:
    """A 2xx means the reset took effect: whatever its body, the failure may not say that the
    password did not change, and the provider must keep the run's rotation claim."""
    result = _outcomes.new_password(status, body, CONN)
    if isinstance(result, MetalApiError):
        assert result.ambiguous
        assert isinstance(result, AmbiguousOutcomeError)
        assert RESET_PASSWORD.if_ambiguous in str(result)
        assert RESET_PASSWORD.if_refused not in str(result)
    else:
        assert status in (200, 201)


def test_quoted_api_messages_are_scrubbed_and_bounded() -> None:
    body = json.dumps({"error": "a\nb", "errors": [f"x {TOKEN}", "y" * 300, "\x00"]}).encode()
    assert _outcomes.api_messages(body, CONN) == ("a b", "y" * 199 + "…")
    assert _outcomes.api_messages(b"[1, 2]", CONN) == ()
    assert _outcomes.api_messages(None, CONN) == ()


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.InvalidURL("Failed to parse"),
        requests.exceptions.InvalidProxyURL("Please check proxy URL"),
        requests.exceptions.InvalidSchema("Missing dependencies for SOCKS support."),
        requests.exceptions.MissingSchema("No scheme supplied"),
        requests.exceptions.URLRequired(),
    ],
)
def test_a_request_requests_would_not_build_was_not_sent(
    exc: requests.RequestException,
) -> None:
    """requests raises these while it builds the request, before any socket: they are no sign
    that the request reached the API, whatever the operation."""
    for op in (CREATE_TOKEN, RESET_PASSWORD):
        error = _outcomes.transport_error(op, exc, CONN, None)
        assert not error.ambiguous
        assert "nothing was sent" in str(error)
        assert str(exc) not in str(error) or not str(exc)

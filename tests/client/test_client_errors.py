"""Every failure: its exception class, its one sentence, how often it was sent, and no secrets."""

from __future__ import annotations

import json
import logging
import traceback
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from pulumi_metal_reset.errors import (
    AmbiguousNetworkError,
    AmbiguousOutcomeError,
    AmbiguousResponseError,
    AmbiguousServerError,
    ConfigurationError,
    InvalidRequestError,
    MetalApiError,
    MetalResetError,
    NetworkError,
    RateLimitedError,
    ServerError,
    UnauthorizedError,
    UnexpectedResponseError,
)

from .conftest import MakeClient
from .support import PASSWORD, SECRETS, TOKEN, Reply, ScriptedServer

DELETE_RERUN = "may already have been reset; running `pulumi up` again rotates it"
POST_RERUN = "a reset email may already have been sent"
LEAKY = {"error": f"bad token {TOKEN}", "new_password": PASSWORD}
LEAKY_BODY = json.dumps(LEAKY).encode()


def assert_clean(exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    """No secret in the message, repr, traceback or logs; no chained exception shown."""
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__
    assert "During handling" not in texts[2]
    assert "direct cause" not in texts[2]
    message = str(exc)
    assert message.endswith("."), message
    assert "\n" not in message


@dataclass(frozen=True)
class Case:
    method: str
    replies: tuple[Reply, ...]
    raises: type[MetalResetError]
    says: tuple[str, ...]
    sent: int = 1
    ambiguous: bool = False
    client: dict[str, Any] = field(default_factory=dict)


CASES: dict[str, Case] = {
    "401-post": Case(
        "POST",
        (Reply(401, body=LEAKY_BODY),),
        UnauthorizedError,
        ("refused the API token from the stack config equinix:authToken", "HTTP 401"),
    ),
    "401-delete": Case(
        "DELETE",
        (Reply.json(401, {"error": "Invalid authentication token"}),),
        UnauthorizedError,
        ("equinix:authToken", "so the API password did not change", "valid user API key"),
    ),
    "403": Case(
        "DELETE",
        (Reply(403),),
        UnauthorizedError,
        ("HTTP 403", "so the API password did not change", "equinix:authToken"),
    ),
    "422-errors": Case(
        "POST",
        (Reply.json(422, {"errors": ["email is invalid", f"token {TOKEN} rejected"]}),),
        InvalidRequestError,
        ("HTTP 422: email is invalid)", "check the email address"),
    ),
    "422-error": Case(
        "DELETE",
        (Reply.json(422, {"error": "account is locked"}),),
        InvalidRequestError,
        ("HTTP 422: account is locked)", "so the API password did not change"),
    ),
    "422-no-body": Case("POST", (Reply(422),), InvalidRequestError, ("no reason given",)),
    "429-post": Case(
        "POST",
        (Reply(429),) * 4,
        RateLimitedError,
        ("HTTP 429) after 3 retries", "so no reset email was sent"),
        sent=4,
    ),
    "429-delete": Case(
        "DELETE",
        (Reply(429),) * 4,
        RateLimitedError,
        ("HTTP 429", "so the API password did not change"),
        sent=4,
    ),
    "503": Case(
        "DELETE",
        (Reply(503, body=LEAKY_BODY),) * 4,
        ServerError,
        ("unavailable (HTTP 503) after 3 retries", "so the API password did not change"),
        sent=4,
    ),
    "503-no-retries": Case(
        "POST", (Reply(503),), ServerError, ("HTTP 503)",), client={"max_retries": 0}
    ),
    "501": Case(
        "POST",
        (Reply(501),),
        ServerError,
        ("HTTP 501", "no reset email was sent", "equinix:endpoint"),
    ),
    "500-delete": Case(
        "DELETE",
        (Reply(500, body=LEAKY_BODY),),
        AmbiguousServerError,
        ("HTTP 500", DELETE_RERUN),
        ambiguous=True,
    ),
    "502-delete": Case(
        "DELETE", (Reply(502),), AmbiguousServerError, ("HTTP 502", DELETE_RERUN), ambiguous=True
    ),
    "504-post": Case(
        "POST", (Reply(504),), AmbiguousServerError, ("HTTP 504", POST_RERUN), ambiguous=True
    ),
    "599-post": Case("POST", (Reply(599),), AmbiguousServerError, (POST_RERUN,), ambiguous=True),
    "slow-delete": Case(
        "DELETE",
        (replace(Reply.json(201, {"new_password": PASSWORD}), delay=0.6),),
        AmbiguousNetworkError,
        ("sent no answer within 0.2 s", DELETE_RERUN),
        ambiguous=True,
        client={"timeout": 0.2},
    ),
    "slow-post": Case(
        "POST",
        (Reply(201, delay=0.6),),
        AmbiguousNetworkError,
        ("sent no answer within 0.2 s", POST_RERUN),
        ambiguous=True,
        client={"timeout": 0.2},
    ),
    "dropped-delete": Case(
        "DELETE",
        (Reply(drop=True),),
        AmbiguousNetworkError,
        ("dropped the connection", DELETE_RERUN),
        ambiguous=True,
    ),
    "dropped-post": Case(
        "POST",
        (Reply(drop=True),),
        AmbiguousNetworkError,
        ("dropped the connection", POST_RERUN),
        ambiguous=True,
    ),
    "garbage-status-line": Case(
        "DELETE",
        (Reply(raw=b"NOT HTTP AT ALL " + PASSWORD.encode() + b"\r\n\r\n"),),
        AmbiguousNetworkError,
        (DELETE_RERUN,),
        ambiguous=True,
    ),
    "delete-body-cut-short": Case(
        "DELETE",
        (
            Reply(
                raw=b"HTTP/1.1 201 Created\r\nContent-Length: 100\r\n\r\n"
                + b'{"new_password": "'
                + PASSWORD.encode()
            ),
        ),
        AmbiguousNetworkError,
        ("broke while the new password was being received", DELETE_RERUN),
        ambiguous=True,
    ),
    # urllib3 refuses conflicting lengths while it builds the answer, and requests raises that
    # as InvalidHeader, the name it also gives a header it refuses to send: here the request
    # was sent and answered.
    "delete-conflicting-content-length": Case(
        "DELETE",
        (Reply(raw=b"HTTP/1.1 201 Created\r\nContent-Length: 30, 31\r\n\r\n{}"),),
        AmbiguousNetworkError,
        (DELETE_RERUN,),
        ambiguous=True,
    ),
    "post-conflicting-content-length": Case(
        "POST",
        (Reply(raw=b"HTTP/1.1 201 Created\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),),
        AmbiguousNetworkError,
        (POST_RERUN,),
        ambiguous=True,
    ),
    "delete-201-not-json": Case(
        "DELETE",
        (Reply(201, body=b"new_password=" + PASSWORD.encode()),),
        AmbiguousResponseError,
        ("HTTP 201", "without a readable new password", DELETE_RERUN),
        ambiguous=True,
    ),
    "delete-201-no-field": Case(
        "DELETE",
        (Reply.json(201, {"password": PASSWORD}),),
        AmbiguousResponseError,
        ("without a readable new password",),
        ambiguous=True,
    ),
    "delete-201-empty-password": Case(
        "DELETE",
        (Reply.json(201, {"new_password": ""}),),
        AmbiguousResponseError,
        ("without a readable new password",),
        ambiguous=True,
    ),
    "delete-201-huge": Case(
        "DELETE",
        (Reply(201, body=b'{"new_password": "' + PASSWORD.encode() + b"x" * (2 << 20) + b'"}'),),
        AmbiguousResponseError,
        ("without a readable new password",),
        ambiguous=True,
    ),
    "delete-204": Case(
        "DELETE",
        (Reply(204),),
        AmbiguousResponseError,
        ("HTTP 204 instead of 201", DELETE_RERUN),
        ambiguous=True,
    ),
    "404": Case(
        "POST",
        (Reply(404, body=LEAKY_BODY),),
        UnexpectedResponseError,
        ("HTTP 404", "does not document", "equinix:endpoint"),
    ),
    "redirect-not-followed": Case(
        "DELETE",
        (Reply(301, {"Location": "https://evil.example/steal"}),),
        UnexpectedResponseError,
        ("HTTP 301", "redirect, which is not followed"),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_failure(
    name: str,
    server: ScriptedServer,
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    case = CASES[name]
    server.script(*case.replies)
    client = make_client(**case.client)
    caplog.set_level(logging.DEBUG)
    call = (
        (lambda: client.create_password_reset_token("a+b@x.io"))
        if case.method == "POST"
        else client.reset_password
    )
    with pytest.raises(case.raises) as info:
        call()
    exc = info.value
    assert type(exc) is case.raises
    for fragment in case.says:
        assert fragment in str(exc)
    assert isinstance(exc, AmbiguousOutcomeError) is case.ambiguous
    assert len(server.requests) == case.sent
    assert {r.method for r in server.requests} == {case.method}
    assert_clean(exc, caplog)
    assert TOKEN not in repr(client)


def test_422_messages_are_scrubbed_and_truncated(
    server: ScriptedServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(
        Reply.json(
            422,
            {
                "error": "email\nis invalid",
                "errors": [f"your token is {TOKEN}", "y" * 500, "", "\x00\x01"],
            },
        )
    )
    with pytest.raises(InvalidRequestError) as info:
        make_client().create_password_reset_token("nobody@x.io")
    assert info.value.status == 422
    assert info.value.messages == ("email is invalid", "y" * 199 + "…")
    assert_clean(info.value, caplog)


def test_status_is_kept_on_api_errors(server: ScriptedServer, make_client: MakeClient) -> None:
    server.script(Reply(502))
    with pytest.raises(MetalApiError) as info:
        make_client().reset_password()
    assert info.value.status == 502


def test_tls_to_a_plain_http_server_fails_before_sending(
    server: ScriptedServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(api_url=server.url.replace("http://", "https://"))
    with pytest.raises(NetworkError) as info:
        client.reset_password()
    assert type(info.value) is NetworkError
    assert "TLS" in str(info.value)
    assert "nothing was sent" in str(info.value)
    assert server.requests == []
    assert len(server.ports) == 1  # a failed handshake is not retried
    assert_clean(info.value, caplog)


def test_refused_connection_is_retried_then_safe_to_rerun(
    closed_port: int, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(api_url=f"http://127.0.0.1:{closed_port}", max_retries=2)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(NetworkError) as info:
        client.reset_password()
    exc = info.value
    assert type(exc) is NetworkError
    assert not isinstance(exc, AmbiguousOutcomeError)
    assert "the connection was refused after 2 retries" in str(exc)
    assert "the stack config equinix:endpoint" in str(exc)
    assert "safe to run again" in str(exc)
    retried = [r for r in caplog.records if "Retrying" in r.getMessage()]
    assert len(retried) == 2
    assert_clean(exc, caplog)


def test_unresolvable_host_is_a_network_error(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS failure, simulated so that no resolver traffic leaves the machine."""
    import socket

    def no_dns(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    client = make_client(api_url="https://metal.invalid", max_retries=1)
    with pytest.raises(NetworkError) as info:
        client.create_password_reset_token("a@x.io")
    assert type(info.value) is NetworkError
    assert "host name could not be resolved after 1 retries" in str(info.value)


def test_unencodable_email_is_refused_before_sending(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    with pytest.raises(ConfigurationError, match="email address"):
        make_client().create_password_reset_token("a\udcff@x.io")
    assert server.requests == []

"""What goes on the wire for each call, and which answers count as success."""

from __future__ import annotations

import pickle
from urllib.parse import parse_qs

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulumi_metal_reset import __version__
from pulumi_metal_reset.api_models import NewPassword

from .conftest import MakeClient
from .support import PASSWORD, TOKEN, Reply, ScriptedServer


def test_post_encodes_plus_and_at_and_sends_the_headers(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    server.script(Reply(201))
    make_client().create_password_reset_token("a+b@x.io")
    [seen] = server.requests
    assert (seen.method, seen.path) == ("POST", "/metal/v1/reset-password")
    assert seen.query == "email=a%2Bb%40x.io"
    assert parse_qs(seen.query) == {"email": ["a+b@x.io"]}
    assert seen.headers["x-auth-token"] == TOKEN
    assert seen.headers["accept"] == "application/json"
    assert seen.headers["user-agent"] == f"pulumi-metal-reset/{__version__}"
    assert "authorization" not in seen.headers
    assert "cookie" not in seen.headers


def test_delete_returns_the_new_password_as_a_secret(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    server.script(Reply.json(201, {"new_password": PASSWORD, "extra": 1}))
    new = make_client().reset_password()
    assert isinstance(new, NewPassword)
    assert new.new_password.get_secret_value() == PASSWORD
    assert PASSWORD not in repr(new)
    assert PASSWORD not in str(new)
    [seen] = server.requests
    assert (seen.method, seen.path, seen.query) == ("DELETE", "/metal/v1/reset-password", "")
    assert seen.headers["x-auth-token"] == TOKEN


def test_delete_accepts_200_too(server: ScriptedServer, make_client: MakeClient) -> None:
    server.script(Reply.json(200, {"new_password": PASSWORD}))
    assert make_client().reset_password().new_password.get_secret_value() == PASSWORD


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_post_treats_any_2xx_as_success_and_ignores_the_body(
    server: ScriptedServer, make_client: MakeClient, status: int
) -> None:
    body = b"" if status == 204 else b"<html>not json</html>"
    server.script(Reply(status, body=body))
    make_client().create_password_reset_token("a@x.io")
    assert len(server.requests) == 1


@pytest.mark.parametrize("suffix", ["", "/", "/metal/v1", "/metal/v1/"])
def test_metal_path_is_optional(
    server: ScriptedServer, make_client: MakeClient, suffix: str
) -> None:
    server.script(Reply(201))
    client = make_client(api_url=server.url + suffix)
    assert client.api_url == server.url + "/metal/v1"
    client.create_password_reset_token("a@x.io")
    assert server.requests[0].path == "/metal/v1/reset-password"


def test_token_is_trimmed_of_surrounding_whitespace(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    server.script(Reply(201))
    make_client(token=f"  {TOKEN}\n").create_password_reset_token("a@x.io")
    assert server.requests[0].headers["x-auth-token"] == TOKEN


def test_cookies_are_neither_stored_nor_sent(
    server: ScriptedServer, make_client: MakeClient
) -> None:
    server.script(Reply(201, {"Set-Cookie": "sid=abc; Path=/"}), Reply(201))
    client = make_client()
    client.create_password_reset_token("a@x.io")
    client.create_password_reset_token("a@x.io")
    assert "cookie" not in server.requests[1].headers


def test_client_cannot_be_pickled(make_client: MakeClient) -> None:
    with pytest.raises(TypeError, match="must not be pickled") as info:
        pickle.dumps(make_client())
    assert TOKEN not in str(info.value)


_EMAILS = st.text(st.characters(exclude_categories=["Cs"]), max_size=80)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(email=_EMAILS)
def test_any_email_round_trips_through_the_query(
    server: ScriptedServer, make_client: MakeClient, email: str
) -> None:
    server.default = Reply(201)
    make_client().create_password_reset_token(email)
    query = server.requests[-1].query
    assert parse_qs(query, keep_blank_values=True, strict_parsing=True) == {"email": [email]}
    # Only unreserved characters travel unescaped, so no proxy or server can re-interpret one.
    value = query.removeprefix("email=")
    assert all(ch.isascii() and (ch.isalnum() or ch in "-._~%") for ch in value)

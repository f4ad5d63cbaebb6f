"""The two endpoints and every error, over real loopback HTTP, checked against the spec."""

from __future__ import annotations

import errno
import socket

import pytest

from pulumi_metal_reset.emulator import DEV_TOKEN, DEV_USER, Emulator, PortInUseError

from .support import Client, error_body, new_password, skip_without_ipv6_loopback, spec_statuses


def test_delete_rotates_to_a_fresh_password_each_time(
    metal_emulator: Emulator, client: Client
) -> None:
    assert metal_emulator.password_of(DEV_USER) is None
    first = new_password(client.delete())
    second = new_password(client.delete())
    assert len(first) >= 20
    assert len(second) >= 20
    assert first != second
    assert metal_emulator.password_of(DEV_USER) == second
    assert 201 in spec_statuses("DELETE")


def test_post_answers_201_with_an_empty_body(client: Client) -> None:
    reply = client.post("email=alice%40example.com")
    assert reply.status == 201
    assert 201 in spec_statuses("POST")
    assert reply.body == b""
    assert reply.headers["Content-Length"] == "0"
    assert reply.content_type is None
    assert "new_password" not in reply.body.decode()


def test_post_decodes_percent_encoded_plus_and_at(metal_emulator: Emulator, client: Client) -> None:
    assert client.post("email=a%2Bb%40x.io").status == 201
    assert metal_emulator.journal[-1].query == {"email": ["a+b@x.io"]}


def test_a_raw_plus_is_a_space_as_in_form_encoding(
    metal_emulator: Emulator, client: Client
) -> None:
    body = error_body(client.post("email=a+b@x.io"), 422)
    assert body.errors == ["email is not a valid email address"]
    assert metal_emulator.journal[-1].query == {"email": ["a b@x.io"]}
    assert metal_emulator.journal[-1].applied is False


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("", "email is required"),
        ("email=", "email is required"),
        ("mail=a%40x.io", "email is required"),
        ("email=not-an-email", "email is not a valid email address"),
        ("email=a%40b", "email is not a valid email address"),
        ("email=a%40%40x.io", "email is not a valid email address"),
        ("email=a%40x.io&email=b%40x.io", "email must be given once"),
        ("email=%FF%40x.io", "the query string is not valid UTF-8"),
    ],
)
def test_post_refuses_a_missing_or_invalid_email_with_422(
    client: Client, query: str, problem: str
) -> None:
    assert 422 in spec_statuses("POST")
    body = error_body(client.post(query), 422)
    assert body.errors == [problem]
    assert body.error is None


@pytest.mark.parametrize("method", ["DELETE", "POST"])
@pytest.mark.parametrize("token", [None, "", "wrong-token", DEV_TOKEN.upper()])
def test_no_valid_token_is_401(
    metal_emulator: Emulator, client: Client, method: str, token: str | None
) -> None:
    assert 401 in spec_statuses(method)
    path = client.base + "/reset-password?email=a%40x.io"
    body = error_body(client.request(method, path, token=token), 401)
    assert body.error == "Invalid authentication token"
    assert metal_emulator.password_of(DEV_USER) is None


@pytest.mark.parametrize(
    "path",
    ["/", "/metal/v1", "/metal/v1/reset-password/", "/metal/v1/users", "/reset-password"],
)
def test_unknown_paths_are_404_with_the_error_schema(client: Client, path: str) -> None:
    error_body(client.request("DELETE", path, token=DEV_TOKEN), 404)


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "OPTIONS"])
def test_other_methods_are_405_with_allow(client: Client, method: str) -> None:
    reply = client.request(method, client.base + "/reset-password", token=DEV_TOKEN)
    error_body(reply, 405)
    assert reply.headers["Allow"] == "DELETE, POST"


def test_head_gets_the_405_headers_without_a_body_and_keeps_the_connection(
    client: Client,
) -> None:
    reply = client.request("HEAD", client.base + "/reset-password")
    assert reply.status == 405
    assert reply.body == b""
    assert int(reply.headers["Content-Length"]) > 0
    new_password(client.delete())  # the connection still frames requests correctly


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "BREW"])
def test_a_method_with_no_handler_is_405_with_allow_too(client: Client, method: str) -> None:
    """The stdlib answers 501 for a method it has no `do_` handler for; the APIs answer it."""
    reply = client.request(method, client.base + "/reset-password")
    error_body(reply, 405)
    assert reply.headers["Allow"] == "DELETE, POST"
    error_body(client.request(method, client.base + "/users"), 404)
    new_password(client.delete())  # the connection still frames requests correctly


def test_a_content_length_in_other_digits_is_a_400_not_a_500(client: Client) -> None:
    """`"²".isdigit()` is true and `int("²")` fails: a superscript two (byte B2, read as
    Latin-1) must be refused as a malformed header, not crash into a 500."""
    with socket.create_connection((client.conn.host, client.conn.port), timeout=5) as raw:
        raw.sendall(
            b"DELETE /metal/v1/reset-password HTTP/1.1\r\nHost: x\r\nContent-Length: \xb2\r\n\r\n"
        )
        answer = raw.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"Content-Length is not a number" in answer


def test_a_request_body_is_consumed_so_keep_alive_stays_in_step(client: Client) -> None:
    reply = client.request(
        "POST", client.base + "/reset-password?email=a%40x.io", token=DEV_TOKEN, body=b"{}" * 100
    )
    assert reply.status == 201
    new_password(client.delete())


def test_chunked_bodies_are_refused_and_the_connection_closed(client: Client) -> None:
    reply = client.request(
        "DELETE",
        client.base + "/reset-password",
        token=DEV_TOKEN,
        headers={"Transfer-Encoding": "chunked"},
        body=b"0\r\n\r\n",
    )
    error_body(reply, 411)
    assert reply.headers["Connection"] == "close"


def test_many_keep_alive_requests_share_one_connection(client: Client) -> None:
    for _ in range(5):
        new_password(client.delete())
    local_port = client.conn.sock.getsockname()[1] if client.conn.sock else None
    new_password(client.delete())
    assert client.conn.sock is not None
    assert client.conn.sock.getsockname()[1] == local_port


def test_tokens_map_to_users_and_users_keep_their_own_password() -> None:
    tokens = {"tok-a": "alice", "tok-a2": "alice", "tok-b": "bob"}
    with Emulator(tokens) as emu, Client(emu.url) as client:
        assert emu.users == ("alice", "bob")
        assert emu.token_for_user("bob") == "tok-b"
        alice = new_password(client.delete("tok-a"))
        bob = new_password(client.delete("tok-b"))
        assert emu.password_of("alice") == alice
        assert emu.password_of("bob") == bob
        alice_again = new_password(client.delete("tok-a2"))
        assert emu.password_of("alice") == alice_again
        assert emu.password_of("bob") == bob
        error_body(client.delete(DEV_TOKEN), 401)  # custom tokens replace the dev token
        with pytest.raises(KeyError):
            emu.password_of("carol")
        with pytest.raises(KeyError):
            emu.token_for_user("carol")


def test_the_url_ends_in_the_metal_path_and_the_repr_hides_tokens() -> None:
    emu = Emulator({"secret-token-value": "alice"})
    assert "stopped" in repr(emu)
    with pytest.raises(RuntimeError, match="not running"):
        _ = emu.url
    with emu:
        assert emu.url.startswith("http://127.0.0.1:")
        assert emu.url.endswith("/metal/v1")
        assert emu.url == emu.root_url + "/metal/v1"
        assert emu.control_url == emu.root_url + "/_emulator"
        assert emu.port > 0
        assert emu.running
        assert "secret-token-value" not in repr(emu)
        assert "alice" in repr(emu)
    assert not emu.running
    emu.stop()  # stopping twice is fine
    with pytest.raises(RuntimeError, match="already started"):
        emu.start()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.com"])  # noqa: S104
def test_only_loopback_addresses_are_allowed(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        Emulator(host=host)


@pytest.mark.parametrize("port", [-1, 65536])
def test_a_port_out_of_range_is_refused_in_one_sentence(port: int) -> None:
    with pytest.raises(ValueError, match=f"^{port} is not a port; give 0-65535"):
        Emulator(port=port)


def test_empty_token_maps_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one token"):
        Emulator({})


def test_ipv6_loopback_works() -> None:
    skip_without_ipv6_loopback()
    with Emulator(host="::1") as emu, Client(emu.url) as client:
        assert emu.url.startswith("http://[::1]:")
        new_password(client.delete())


def test_stop_ends_idle_keep_alive_connections(metal_emulator: Emulator, client: Client) -> None:
    new_password(client.delete())
    metal_emulator.stop()
    assert client.conn.sock is not None
    client.conn.sock.settimeout(2)
    assert client.conn.sock.recv(1) == b""  # the server closed its side


def test_a_busy_port_in_process_says_to_use_port_0(metal_emulator: Emulator) -> None:
    """`Emulator(port=...)` on a taken port: still an OSError with the system's errno, and a
    message that is one sentence suggesting port 0."""
    with pytest.raises(PortInUseError) as info:
        Emulator(port=metal_emulator.port).start()
    error = info.value
    assert isinstance(error, OSError)
    assert error.errno == errno.EADDRINUSE
    assert error.strerror  # the system's own words stay available, e.g. for the demo script
    message = str(error)
    assert f"127.0.0.1:{metal_emulator.port} because that port is already in use" in message
    assert "--port 0" in message
    assert "port=0" in message
    assert message.endswith(".")
    assert "\n" not in message
    assert error.__cause__ is None
    assert error.__suppress_context__

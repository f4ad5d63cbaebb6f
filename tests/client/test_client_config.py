"""Construction: settings are checked before any socket, and nothing prints the token.

The checks live in `settings.connection_for`, which the provider calls before it builds a client;
these tests go through both, as the provider does.
"""

from __future__ import annotations

import socket
import traceback

import pytest

from pulumi_metal_reset.client import MetalClient
from pulumi_metal_reset.endpoint import DEFAULT_API_URL
from pulumi_metal_reset.errors import ConfigurationError
from pulumi_metal_reset.settings import connection_for

from .support import TOKEN

WITH_TOKEN = {"equinix:authToken": TOKEN}


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything tries to connect or resolve a name."""

    def forbidden(*args: object, **kwargs: object) -> None:
        pytest.fail("a socket was used")

    monkeypatch.setattr(socket, "create_connection", forbidden)
    monkeypatch.setattr(socket, "getaddrinfo", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)


@pytest.mark.usefixtures("no_sockets")
@pytest.mark.parametrize(
    "url",
    [
        "http://metal.example.com",
        "http://api.equinix.com/metal/v1",
        "http://10.0.0.1:8080",
        "ftp://127.0.0.1",
        "https://user:pw@api.equinix.com",
        "   ",
    ],
)
def test_bad_endpoints_are_refused_before_any_socket(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        MetalClient(connection_for({}, WITH_TOKEN, {"EQUINIX_API_ENDPOINT": url}))
    message = str(info.value)
    assert message.startswith(
        "The API endpoint from the environment variable EQUINIX_API_ENDPOINT "
    )
    assert message.endswith(".")
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    assert "ValueError" not in "".join(traceback.format_exception(info.value))
    assert "user:pw" not in message


@pytest.mark.usefixtures("no_sockets")
def test_an_empty_endpoint_variable_counts_as_unset() -> None:
    client = MetalClient(connection_for({}, WITH_TOKEN, {"EQUINIX_API_ENDPOINT": ""}))
    assert client.api_url == DEFAULT_API_URL


@pytest.mark.usefixtures("no_sockets")
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://api.equinix.com", DEFAULT_API_URL),
        ("https://api.equinix.com/", DEFAULT_API_URL),
        (DEFAULT_API_URL, DEFAULT_API_URL),
        ("http://localhost:8080/metal/v1", "http://localhost:8080/metal/v1"),
        ("http://[::1]:9", "http://[::1]:9/metal/v1"),
    ],
)
def test_endpoints_are_normalised_without_connecting(given: str, expected: str) -> None:
    client = MetalClient(connection_for({"api_url": given}, WITH_TOKEN, {}))
    assert client.api_url == expected


@pytest.mark.usefixtures("no_sockets")
def test_repr_shows_the_endpoint_but_not_the_token() -> None:
    client = MetalClient(connection_for({"auth_token": TOKEN}, {}, {}))
    text = repr(client)
    assert TOKEN not in text
    assert DEFAULT_API_URL in text
    assert "the resource input auth_token" in text
    assert TOKEN not in str(client)

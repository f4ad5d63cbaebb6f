"""The transport prepares each method and URL once and appends a call's query to a copy.

That is the request `requests` itself would prepare for the whole URL: its re-quoting leaves a
percent-encoded query unchanged. Checked here through `Transport.send` itself, with a recording
adapter in place of the network, for any address, since every create's query differs (the
email), and for endpoints as `connection_for` normalises them.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import requests
from hypothesis import given
from hypothesis import strategies as st
from requests.adapters import BaseAdapter
from requests.auth import AuthBase

from pulumi_metal_reset.client import _transport
from pulumi_metal_reset.endpoint import RESET_PATH

from .conftest import connection

ENDPOINTS = st.sampled_from(
    [
        "https://api.equinix.com",
        "http://127.0.0.1:8080/metal/v1",
        "https://gateway.example.com/prefix/metal",
        "http://[::1]:9/",
        "https://Bücher.example/a%20b/",
    ]
)
# Any text but surrogates, which the client refuses before sending (ConfigurationError).
ADDRESSES = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


class RecordingAdapter(BaseAdapter):
    """Keeps each request it is given and answers 204 without touching the network."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        self.sent.append(request)
        response = requests.Response()
        response.status_code = 204
        return response

    def close(self) -> None:
        pass


class NoAuth(AuthBase):
    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


@given(endpoint=ENDPOINTS, address=ADDRESSES)
def test_a_copy_with_the_query_appended_is_what_requests_prepares(
    endpoint: str, address: str
) -> None:
    conn = connection(api_url=endpoint)
    url = conn.api_url + RESET_PATH
    query = "?email=" + quote(address, safe="")
    whole = requests.PreparedRequest()
    whole.prepare(method="POST", url=url + query)
    transport = _transport.transport_for(conn)
    adapter = RecordingAdapter()
    transport.session.mount("https://", adapter)
    transport.session.mount("http://", adapter)
    transport.send("POST", url, query, NoAuth(), (5.0, 5.0))
    [sent] = adapter.sent
    assert sent.url == whole.url

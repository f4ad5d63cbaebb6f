"""The transport prepares each method and URL once and appends a call's query to a copy.

That is the request `requests` itself would prepare for the whole URL: its re-quoting leaves a
percent-encoded query unchanged. Checked here for any address, since every create's query
differs (the email), and for endpoints as `connection_for` normalises them.
"""

from __future__ import annotations

from urllib.parse import quote

import requests
from hypothesis import given
from hypothesis import strategies as st

from pulumi_metal_reset.endpoint import RESET_PATH, normalise_api_url

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


@given(endpoint=ENDPOINTS, address=ADDRESSES)
def test_a_copy_with_the_query_appended_is_what_requests_prepares(
    endpoint: str, address: str
) -> None:
    url = normalise_api_url(endpoint) + RESET_PATH
    query = "?email=" + quote(address, safe="")
    whole = requests.PreparedRequest()
    whole.prepare(method="POST", url=url + query)
    base = requests.PreparedRequest()
    base.prepare(method="POST", url=url)
    copied = base.copy()
    copied.url = f"{base.url}{query}"
    assert copied.url == whole.url

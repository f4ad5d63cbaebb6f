"""Endpoint normalisation: every spelling users paste ends in one canonical `/metal/v1` URL."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulumi_metal_reset.endpoint import has_credentials, normalise_api_url


@pytest.mark.parametrize(
    ("given_url", "expected"),
    [
        ("https://api.equinix.com", "https://api.equinix.com/metal/v1"),
        ("https://api.equinix.com/", "https://api.equinix.com/metal/v1"),
        ("https://api.equinix.com/metal", "https://api.equinix.com/metal/v1"),
        ("https://API.Equinix.com/METAL/V1/", "https://api.equinix.com/metal/v1"),
        ("http://127.0.0.1:18787/metal/v1", "http://127.0.0.1:18787/metal/v1"),
        ("http://localhost:8080", "http://localhost:8080/metal/v1"),
        ("http://[::1]:9/", "http://[::1]:9/metal/v1"),
        ("https://gateway.example.com/equinix", "https://gateway.example.com/equinix/metal/v1"),
        ("  https://api.equinix.com  ", "https://api.equinix.com/metal/v1"),
        ("https://B\u00fccher.example", "https://b\u00fccher.example/metal/v1"),
    ],
)
def test_spellings_normalise(given_url: str, expected: str) -> None:
    assert normalise_api_url(given_url) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://metal.example.com", "plain http:// to a host that is not loopback"),
        ("http://10.0.0.1:80", "plain http:// to a host that is not loopback"),
        ("ftp://api.equinix.com", "not an http(s) URL"),
        ("api.equinix.com", "not an http(s) URL"),
        ("https://u:p@api.equinix.com", "must not embed credentials"),
        ("https://api.equinix.com?x=1", "query string"),
        ("https://api.equinix.com:99999", "not a valid URL"),
        ("", "is empty"),
        ("https://api.equinix.com\u200b", "not a valid internationalised domain name"),
        ("https://\u2603.example", "not a valid internationalised domain name"),
        ("https://.equinix.com", "has a host name that starts with"),
        ("https://sek rit.example", "has a space in its host name"),
        ("https://a\tb.example", "has a control character"),
        ("https://api.equinix.com/met\nal", "has a control character"),
    ],
)
def test_refusals(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        normalise_api_url(url)


HOSTS = st.sampled_from(["api.equinix.com", "127.0.0.1", "localhost", "metal.example.org"])
PATHS = st.lists(st.text(string.ascii_lowercase, min_size=1, max_size=6), max_size=3)


@given(HOSTS, st.none() | st.integers(min_value=1, max_value=65535), PATHS, st.booleans())
def test_normalisation_is_idempotent(
    host: str, port: int | None, segments: list[str], suffix: bool
) -> None:
    netloc = host if port is None else f"{host}:{port}"
    path = "".join(f"/{s}" for s in segments) + ("/metal/v1" if suffix else "")
    once = normalise_api_url(f"https://{netloc}{path}")
    assert once.endswith("/metal/v1")
    assert normalise_api_url(once) == once
    assert not once.endswith("/metal/metal/v1")


@pytest.mark.parametrize(
    "url",
    [
        "https://api.equinix.com\u200b",
        "https://\u2603.example",
        "https://.equinix.com",
        "https://B\u00fccher.example",
        "https://xn--bcher-kva.example",
    ],
)
def test_every_accepted_host_is_one_requests_can_send(url: str) -> None:
    """The refusals above are exactly the hosts requests refuses while building the request."""
    import requests

    try:
        normalised = normalise_api_url(url)
    except ValueError:
        accepted = False
    else:
        accepted = True
    try:
        requests.PreparedRequest().prepare_url(normalised if accepted else url, None)
    except requests.exceptions.InvalidURL:
        sendable = False
    else:
        sendable = True
    assert accepted is sendable


def test_credentials_are_detected() -> None:
    assert has_credentials("https://bob:pw@x.io")
    assert has_credentials("https://bob@x.io")
    assert has_credentials("user:pw@x.io")
    assert not has_credentials("https://x.io/metal/v1")

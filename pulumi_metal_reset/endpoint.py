"""Endpoint normalisation and the API's paths: pure string logic for settings, inputs and emulator.

Every endpoint value may be given with or without Metal's `/metal/v1` path, so the emulator's
printed URL and pulumi-equinix's `equinix:endpoint` both work wherever they are pasted.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "DEFAULT_API_URL",
    "METAL_PATH",
    "RESET_PATH",
    "has_credentials",
    "is_loopback_host",
    "normalise_api_url",
]

METAL_PATH = "/metal/v1"
DEFAULT_API_URL = "https://api.equinix.com" + METAL_PATH
#: The password-reset resource, relative to the API base URL, as the spec names it.
RESET_PATH = "/reset-password"


def is_loopback_host(host: str) -> bool:
    """True for `localhost`, 127.0.0.0/8 and ::1: the only hosts plain http may reach."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def has_credentials(value: str) -> bool:
    """True when the text may carry a user name or password, which must never be echoed.

    Any `@` counts: a malformed URL such as `user:pw@host` has no parseable userinfo at all.
    """
    return "@" in value


def _with_metal_path(path: str) -> str:
    """Append whatever part of `/metal/v1` is missing; a gateway's own prefix is kept."""
    lowered = path.lower()
    if lowered.endswith(METAL_PATH):
        return path[: -len(METAL_PATH)] + METAL_PATH
    if lowered.endswith("/metal"):
        return path[: -len("/metal")] + METAL_PATH
    return path + METAL_PATH


def _check_host_labels(host: str) -> None:
    """Refuse a host that requests would refuse when it builds the request, so that `check` says
    so before any call: urllib3 sends each non-ASCII label in its IDNA form (strict, STD3 rules)
    and refuses one that has none, and a space (`normalise_api_url` has refused control
    characters already); requests refuses a leading `*` or `.`."""
    if host.startswith(("*", ".")):
        raise ValueError("has a host name that starts with '*' or '.'; give the API's host name")
    if " " in host:  # urllib3 2.8 refuses it
        raise ValueError("has a space in its host name; type the host name again")
    if host.isascii():
        return
    import idna  # requests' and email-validator's dependency; loaded only for such a host

    for label in host.split("."):
        if label.isascii():
            continue
        try:
            idna.encode(label.lower(), strict=True, std3_rules=True)
        except idna.IDNAError:
            raise ValueError(
                "has a host name that is not a valid internationalised domain name (a pasted "
                "invisible or symbol character?); type the host name again"
            ) from None


def normalise_api_url(value: str) -> str:
    """Return the Metal API base URL ending in `/metal/v1`, or raise ValueError with a reason.

    The reason is a sentence fragment without the value's source; callers add where it came from.
    """
    text = value.strip()
    if not text:
        raise ValueError("is empty; give a URL such as https://api.equinix.com")
    if any(ch < " " or ch == "\x7f" for ch in text):
        # urlsplit would silently drop a tab or line break, and send to another host.
        raise ValueError("has a control character (a tab or a line break?); type it again")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError("is not a valid URL; give a URL such as https://api.equinix.com") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "is not an http(s) URL with a host; give a URL such as https://api.equinix.com"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not embed credentials; pass the API token separately")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query string or fragment")
    if scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError(
            "uses plain http:// to a host that is not loopback; use https:// "
            "(plain http is allowed only to 127.0.0.1, ::1 or localhost, such as the emulator)"
        )
    _check_host_labels(parts.hostname)
    path = _with_metal_path(parts.path.rstrip("/"))
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((scheme, netloc, path, "", ""))

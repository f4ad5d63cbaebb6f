"""The resolved connection settings: what one API call needs, already validated.

`settings.connection_for` is the only place that builds one from user values, and it checks
every field (token present and header-safe, endpoint normalised, https or loopback, numbers in
range); the client takes it as it is and checks nothing again. A record of its own, so that the
client depends on plain data and never on the validating layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Protocol, SupportsIndex
from urllib.parse import urlsplit

from pulumi_metal_reset.endpoint import is_loopback_host

__all__ = ["MAX_CONNECT_TIMEOUT", "Connection", "Secret", "SecretValue", "reveal"]

#: Seconds allowed to open a connection; a longer wait means the host is unreachable.
MAX_CONNECT_TIMEOUT: Final = 10.0


class SecretValue(Protocol):
    """Anything that hides a string until asked: `Secret`, or pydantic's `SecretStr`."""

    def get_secret_value(self) -> str: ...


def reveal(value: object) -> str:
    """The text of a `SecretValue`, or of any other value.

    Duck-typed rather than `isinstance` against a runtime-checkable protocol, which costs more
    than the rest of resolving a call's settings on Python 3.11.
    """
    get_secret_value = getattr(value, "get_secret_value", None)
    return str(get_secret_value()) if callable(get_secret_value) else str(value)


class Secret:
    """A string that no repr, str or log line shows; `get_secret_value()` reveals it.

    Hand-written rather than pydantic's `SecretStr`, which behaves alike: importing that loads
    pydantic's Python layer (about 35 ms CPU and 3 MiB), which the provider process's first
    calls otherwise never need.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        raise TypeError("A secret must not be pickled; keep it in the process that read it.")


@dataclass(frozen=True)
class Connection:
    """One endpoint, one token and the limits for calls to it; build it with `connection_for`.

    The `*_source` fields are phrases such as "the stack config equinix:authToken" that error
    messages quote to say where a value came from. The token is a `Secret`, so no repr or log
    line shows it, and the record refuses to be pickled, so it never reaches Pulumi state.
    """

    api_url: str
    """The normalised base URL, ending in `/metal/v1`."""
    api_url_source: str
    token: SecretValue = field(repr=False)
    """Stripped of surrounding whitespace; visible ASCII only."""
    token_source: str
    timeout: float
    """Seconds to wait for an answer once the request was sent."""
    max_retries: int
    max_retry_wait: float

    @property
    def connect_timeout(self) -> float:
        """Seconds to open a connection: the smaller of `timeout` and 10 s."""
        return min(self.timeout, MAX_CONNECT_TIMEOUT)

    @property
    def host(self) -> str:
        """The endpoint's host name, for messages."""
        return urlsplit(self.api_url).hostname or ""

    @property
    def loopback(self) -> bool:
        """True for 127.0.0.0/8, ::1 and localhost (the emulator): no proxy applies to them."""
        return is_loopback_host(self.host)

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        raise TypeError(
            "A Connection holds an API token and must not be pickled; resolve it where it is used."
        )

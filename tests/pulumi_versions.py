"""How the installed pulumi SDK's dynamic-provider server reports a provider's exception.

The package supports pulumi 3.260 and later (the floor lane, `make test-floors`, runs the tests
there). Every test that reads the shape of a provider error still asks this module, so the
tests keep working if the floor ever moves below 3.260 again:

- SDK 3.260.0 and later: `pulumi/dynamic/__main__.py` wraps every method in
  `_abort_with_traceback`, which aborts with `traceback.format_exc()`. The details are a traceback
  whose last line is `<module.Class>: <message>`.
- Before 3.260.0 the exception escapes to grpc's server (`grpc/_server.py`, `_call_behavior`),
  which aborts with `"Exception calling application: <message>"`: one line, no class, no traceback.

Both carry the provider's one-sentence message last, which is what users read.
"""

from __future__ import annotations

from importlib.metadata import version

from packaging.version import Version

SDK_VERSION = Version(version("pulumi"))
# The first release whose dynamic-provider server sends `traceback.format_exc()`.
TRACEBACK_SINCE = Version("3.260.0")
SENDS_TRACEBACK = SDK_VERSION >= TRACEBACK_SINCE
GRPC_PREFIX = "Exception calling application: "


def provider_error_tail(exc_type: str, message: str) -> str:
    """What an error's text ends with when the provider raised `exc_type(message)`."""
    return f"{exc_type}: {message}" if SENDS_TRACEBACK else f"{GRPC_PREFIX}{message}"


def provider_error_message(details: str, exc_type: str) -> str:
    """The provider's message from a provider error's gRPC details, after checking its shape.

    `exc_type` is the qualified class name the traceback's last line starts with (SDK >= 3.260).
    """
    lines = details.strip().splitlines()
    assert lines, "the provider error carries no details"
    last = lines[-1]
    prefix = f"{exc_type}: " if SENDS_TRACEBACK else GRPC_PREFIX
    assert last.startswith(prefix), (
        f"pulumi {SDK_VERSION} should end a provider error with {prefix!r}; got {last!r}"
    )
    if not SENDS_TRACEBACK:
        assert len(lines) == 1, f"pulumi {SDK_VERSION} sends no traceback; got {details!r}"
    return last[len(prefix) :]

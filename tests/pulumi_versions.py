"""How the installed pulumi SDK's dynamic-provider server reports a provider's exception.

The package supports pulumi 3.260 and later (the floor lane, `make test-floors`, runs the tests
there). From 3.260.0 `pulumi/dynamic/__main__.py` wraps every method in `_abort_with_traceback`,
which aborts with `traceback.format_exc()`: the details are a traceback whose last line is
`<module.Class>: <message>`, the provider's one-sentence message last, which is what users read.
Older SDKs sent grpc's `Exception calling application: <message>` instead; tests/test_floors.py
fails if the declared floor ever drops below `TRACEBACK_SINCE` again.
"""

from __future__ import annotations

from packaging.version import Version

# The first release whose dynamic-provider server sends `traceback.format_exc()`.
TRACEBACK_SINCE = Version("3.260.0")


def provider_error_tail(exc_type: str, message: str) -> str:
    """What an error's text ends with when the provider raised `exc_type(message)`."""
    return f"{exc_type}: {message}"


def provider_error_message(details: str, exc_type: str) -> str:
    """The provider's message from a provider error's gRPC details, after checking its shape.

    `exc_type` is the qualified class name the traceback's last line starts with.
    """
    lines = details.strip().splitlines()
    assert lines, "the provider error carries no details"
    last = lines[-1]
    prefix = f"{exc_type}: "
    assert last.startswith(prefix), f"a provider error should end with {prefix!r}; got {last!r}"
    return last[len(prefix) :]

"""`python -m pulumi_metal_reset.emulator`: run the emulator until SIGINT or SIGTERM.

The first stdout line is the base URL, flushed at once, so a parent process can read it and go.
Nothing else is written to stdout. Logs go to stderr, and only with `--verbose`.

Flags (all optional; `--help` has the details):

    --host 127.0.0.1 --port 0 --token TOKEN[=USER] (repeatable) --verbose
    --fault-rate R --fault-status {429,500,502,503} --seed N    a seeded fraction of failures
    --script 429,503,drop,ok,...                               one outcome per API request
    --retry-after S (429 only, default 1) --latency-ms MS
    --drop-after-apply                                         apply, then drop, every request
    --malformed [not-json|missing-field|truncated]             apply, then a bad 201 body

Every fault can also be changed at run time through `/_emulator/faults` (see the package doc).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from pulumi_metal_reset.emulator.accounts import DEV_TOKEN, DEV_USER, parse_token_spec
from pulumi_metal_reset.emulator.faults import (
    FAULT_STATUSES,
    MALFORMED_KINDS,
    SCRIPT_OUTCOMES,
    FaultConfig,
    FaultConfigError,
)
from pulumi_metal_reset.emulator.server import Emulator, PortInUseError, bind_failure

_log = logging.getLogger("pulumi_metal_reset.emulator")

EPILOG = f"""\
Without --token the emulator accepts the development token {DEV_TOKEN!r} as user {DEV_USER!r}.
A --token without =USER belongs to user-<first 12 hex digits of the token's SHA-256>.

Faults (API endpoints only; the /_emulator/ control API can change them at run time):
  per request: the next --script item if any is left, else a --fault-rate draw answered with
  --fault-status, else the standing modes --drop-after-apply and --malformed.
  Script outcomes: {", ".join(SCRIPT_OUTCOMES)}.
  "drop" applies the change and closes the connection unanswered; malformed kinds apply it and
  answer 201 with a bad body; "truncated" contains the real password, to catch clients that
  echo bodies they cannot parse.
"""


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port; give 0-65535 (0: any free port)")
    return port


def _host(text: str) -> str:
    """`[::1]`, as in a URL, is the address `::1`."""
    return text[1:-1] if text.startswith("[") and text.endswith("]") else text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pulumi_metal_reset.emulator",
        description="Serve an emulator of Equinix Metal's /reset-password endpoints on loopback.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--host",
        type=_host,
        default="127.0.0.1",
        help="loopback address to listen on (default 127.0.0.1)",
    )
    add("--port", type=_port, default=0, help="port, 0-65535 (default 0: any free port)")
    add(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN[=USER]",
        help="accept this X-Auth-Token, as USER; repeat for more",
    )
    add("--fault-rate", type=float, default=0.0, metavar="R", help="fraction of requests to fail")
    add(
        "--fault-status",
        type=int,
        default=503,
        choices=FAULT_STATUSES,
        help="status for --fault-rate failures (default 503)",
    )
    add("--retry-after", type=int, default=1, metavar="S", help="Retry-After on 429 (default 1)")
    add("--latency-ms", type=float, default=0, metavar="MS", help="delay every API request")
    add(
        "--script",
        default="",
        metavar="O1,O2,...",
        help="outcomes for the next API requests, one each, e.g. 429,503,ok",
    )
    add("--drop-after-apply", action="store_true", help="apply, then drop every connection")
    add(
        "--malformed",
        nargs="?",
        const="not-json",
        choices=MALFORMED_KINDS,
        help="answer every success with a malformed 201 body (default kind: not-json)",
    )
    add("--seed", type=int, default=0, help="seed for --fault-rate draws (default 0)")
    add("--verbose", action="store_true", help="log one line per request to stderr")
    return parser


def _fault_config(args: argparse.Namespace) -> FaultConfig:
    script = tuple(item for item in args.script.split(",") if item.strip())
    return FaultConfig(
        rate=args.fault_rate,
        status=args.fault_status,
        retry_after=args.retry_after,
        latency_ms=args.latency_ms,
        script=script,
        drop_after_apply=args.drop_after_apply,
        malformed=args.malformed,
        seed=args.seed,
    )


def _tokens(parser: argparse.ArgumentParser, specs: Sequence[str]) -> dict[str, str] | None:
    if not specs:
        return None
    tokens: dict[str, str] = {}
    for spec in specs:
        try:
            token, user = parse_token_spec(spec)
        except ValueError as err:
            parser.error(f"--token: {err}")
        if tokens.get(token, user) != user:
            parser.error("--token: the same token is given for two users")
        tokens[token] = user
    return tokens


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s metal-emulator %(message)s",
    )
    tokens = _tokens(parser, args.token)
    try:
        emulator = Emulator(tokens, host=args.host, port=args.port, faults=_fault_config(args))
    except FaultConfigError as err:
        parser.error("; ".join(err.problems))
    except ValueError as err:
        parser.error(str(err))
    try:
        emulator.start()
    except OSError as err:
        # One sentence, not argparse's usage block: the flags were fine, the port was not.
        message = (
            str(err) if isinstance(err, PortInUseError) else bind_failure(args.host, args.port, err)
        )
        print(message, file=sys.stderr)
        return 2

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(emulator.url, flush=True)
    if tokens is None:
        _log.info("no --token given: accepting the development token as user %r", DEV_USER)
    stop.wait()
    emulator.stop()
    _log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`metal-reset audit`: arguments, the clock, output and exit codes (0 clean, 1 findings,
2 unreadable input). argparse: the standard library covers one subcommand and five options."""

from __future__ import annotations

import argparse
import sys
import time

from pulumi_metal_reset import schedule
from pulumi_metal_reset.audit import rules
from pulumi_metal_reset.audit.export import ExportError, load
from pulumi_metal_reset.audit.findings import KINDS, Settings, audit
from pulumi_metal_reset.audit.report import as_json, as_table

__all__ = ["add_parser", "run"]

DESCRIPTION = "Report PasswordResetToken problems across exported stacks (no network access)."
EPILOG = f"""\
Findings: {", ".join(KINDS)}.
Exit status: 0 no findings, 1 findings, 2 input that cannot be read.

Examples:
  pulumi stack export | metal-reset audit -
  metal-reset audit prod.json staging.json --max-age 90d --json
"""


def _duration(text: str) -> int:
    try:
        return rules.parse_age(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} {err}") from None


def _grace(text: str) -> int:
    """A grace may be zero or a few seconds ("0m", "30s"); a period may not."""
    try:
        seconds = schedule.parse_span(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} {err}") from None
    return seconds if seconds <= schedule.MAX_PERIOD_SECONDS else _duration(text)


def _time(text: str) -> int:
    try:
        return schedule.parse_timestamp(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an RFC 3339 time such as 2026-01-31T00:00:00Z"
        ) from None


def add_parser(subcommands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subcommands.add_parser(
        "audit",
        help="report PasswordResetToken problems in `pulumi stack export` files",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="an export; - reads stdin")
    parser.add_argument(
        "--max-age",
        type=_duration,
        default=rules.parse_age(rules.DEFAULT_MAX_AGE),
        metavar="DURATION",
        help="longest allowed rotation period, and age of a never-rotated token (default 90d)",
    )
    parser.add_argument(
        "--grace",
        type=_grace,
        default=0,
        metavar="DURATION",
        help="how late a rotation may be before it counts as overdue or never rotated (default 0)",
    )
    parser.add_argument(
        "--require-write-only",
        action="store_true",
        help="report tokens that keep the password in state (store_password true or unset, "
        "or a password waiting there for its delivery)",
    )
    parser.add_argument(
        "--now",
        type=_time,
        metavar="TIME",
        help="judge as of this RFC 3339 time instead of the current time",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list of findings")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if list(args.files).count("-") > 1:
        return _fail("standard input (-) can be given only once; save each export to a file.")
    settings = Settings(
        now=args.now if args.now is not None else int(time.time()),
        max_age=args.max_age,
        grace=args.grace,
        require_write_only=args.require_write_only,
    )
    try:
        report = audit([load(path) for path in args.files], settings)
    except ExportError as err:
        return _fail(str(err))
    sys.stdout.write(as_json(report) if args.json else as_table(report))
    return 1 if report.findings else 0


def _fail(sentence: str) -> int:
    sys.stderr.write(f"metal-reset audit: {sentence}\n")
    return 2

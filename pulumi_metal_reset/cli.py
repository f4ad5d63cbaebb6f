"""The `metal-reset` command (also `python -m pulumi_metal_reset`): review tooling that needs
neither Pulumi nor the network. One subcommand so far, `audit`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pulumi_metal_reset import __version__
from pulumi_metal_reset.audit import command as audit_command

__all__ = ["main"]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="metal-reset", description="Review tooling for pulumi-metal-reset stacks."
    )
    root.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subcommands = root.add_subparsers(title="commands", metavar="COMMAND", required=True)
    audit_command.add_parser(subcommands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    code: int = args.run(args)
    return code

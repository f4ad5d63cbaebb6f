"""Stand-in for the Python language host's exec script, which the pulumi wheel does not ship.

Run as ``python _run_program.py --monitor ADDR --engine ADDR --project P --stack S --pwd DIR
--root_directory DIR --dry_run true|false --parallel N [--organization ORG] PROGRAM`` with config in
``PULUMI_CONFIG`` / ``PULUMI_CONFIG_SECRET_KEYS``, exactly as the language host runs its script.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import runpy
import sys
import traceback


def main() -> int:
    """Configure the SDK from the arguments and run the program inside a stack."""
    parser = argparse.ArgumentParser()
    for flag in ("--monitor", "--engine", "--project", "--stack", "--pwd", "--root_directory"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--organization", default=None)
    parser.add_argument("--dry_run", choices=("true", "false"), default="false")
    parser.add_argument("--parallel", type=int, default=0)
    parser.add_argument("program")
    args = parser.parse_args()

    # This script's own directory must not shadow the program's modules.
    os.chdir(args.pwd)
    sys.path[0] = os.path.abspath(args.pwd)
    program = os.path.abspath(args.program)

    import pulumi.runtime

    pulumi.runtime.set_all_config(
        pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env()
    )
    pulumi.runtime.configure(
        pulumi.runtime.Settings(
            monitor=args.monitor,
            engine=args.engine,
            project=args.project,
            stack=args.stack,
            parallel=args.parallel,
            dry_run=args.dry_run == "true",
            organization=args.organization,
            root_directory=args.root_directory,
        )
    )
    sys.argv = [program]

    def run_program() -> None:
        runpy.run_path(program, run_name="__main__")

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(run_program))
    except Exception:
        print("Program failed with an unhandled exception:", file=sys.stderr)
        traceback.print_exc()
        return 32
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

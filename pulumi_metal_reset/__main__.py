"""`python -m pulumi_metal_reset`: the same as the `metal-reset` command."""

from pulumi_metal_reset.cli import main

raise SystemExit(main())

"""Shared fixtures: the emulator plugin that users enable the same way."""

pytest_plugins = ["pulumi_metal_reset.testing.fixtures"]

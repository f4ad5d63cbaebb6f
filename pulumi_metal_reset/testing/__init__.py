"""Offline testing helpers: the emulator fixtures and a small Pulumi test engine.

The test engine runs a Pulumi program through the real Python SDK and the real dynamic-provider
server. It is a test harness, never a way to deploy: it keeps state in a plain JSON file.
"""

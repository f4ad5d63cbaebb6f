"""A local emulator of the Equinix Metal password-reset endpoints (work in progress)."""

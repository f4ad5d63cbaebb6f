"""The rotation steps' pure parts: what an update that does not rotate records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pulumi_metal_reset import deliver
from pulumi_metal_reset.reset import settled_without_rotation
from pulumi_metal_reset.state import CheckedInputs, Outputs

PASSWORD = "Pw-planted-7Qx!r9#Lm2$vT8&kZ"
TARGET = deliver.file("/tmp/metal-password")


def _settle(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Outputs:
    """As `update` calls it: the recorded outputs with the new inputs echoed."""
    outs = replace(Outputs.from_wire(olds), deliver_to=CheckedInputs.from_wire(news).deliver_to)
    return settled_without_rotation("rid", olds, news, outs, hide=lambda: [], clock=lambda: 0)


def test_a_pending_marker_stays_with_its_sink_and_clears_once_deliver_to_is_removed() -> None:
    olds = {
        "email": "ops@example.com",
        "new_password": PASSWORD,
        "delivery_pending": "x",
        "deliver_to": TARGET,
        "rotation_history": None,
    }
    # `redelivery_reason` says the last delivery failed: that path redelivers, so this test
    # removes `deliver_to`, the one case where the marker clears without a delivery.
    kept = _settle(olds, {"email": "ops@example.com", "deliver_to": None})
    assert kept.delivery_pending is None
    assert kept.new_password == PASSWORD
    assert kept.rotation_history == []


def test_without_a_reason_to_deliver_every_recorded_value_carries_over() -> None:
    olds = {
        "email": "ops@example.com",
        "new_password": PASSWORD,
        "deliver_to": TARGET,
        "password_fingerprint": "fp-1",
        "delivered_at": "2030-01-01T00:00:00Z",
        "delivery": "file: /tmp/metal-password (0600)",
        "rotation_history": [{"at": "2030-01-01T00:00:00Z"}],
    }
    kept = _settle(olds, {"email": "ops@example.com", "deliver_to": TARGET})
    assert kept == Outputs.from_wire(olds)

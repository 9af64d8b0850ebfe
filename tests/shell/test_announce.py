"""`gateway serve` says at start-up which carriers take unsigned webhooks."""

from __future__ import annotations

from structlog.testing import capture_logs

from gateway.settings import load_settings
from gateway.shell.serve import _announce


def _warnings(env: dict[str, str]) -> dict[str, dict[str, object]]:
    settings = load_settings(env, env_file=None)
    with capture_logs() as logs:
        _announce(settings)
    return {str(line["event"]): line for line in logs}


def test_carriers_allowed_unsigned_are_named() -> None:
    lines = _warnings({"GATEWAY_UNSIGNED_CARRIERS": "plivo,telnyx"})
    line = lines["carriers.signatures_unchecked"]
    assert line["log_level"] == "warning"
    assert line["carriers"] == ["telnyx", "plivo"]


def test_nothing_is_said_when_every_carrier_needs_its_key() -> None:
    assert "carriers.signatures_unchecked" not in _warnings({})

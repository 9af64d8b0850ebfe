"""Checks every simulated carrier makes on what the gateway sends it (pure).

`json_message` reads one message as a carrier with JSON text frames does (a binary frame, bad
JSON or a non-object is a `ProtocolViolation` with the carrier's error code); `event_name`
names a message for the report.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.sim.dialect import ProtocolViolation

__all__ = ["event_name", "json_message"]


def event_name(message: str | bytes) -> str:
    """A JSON message's `event` (`"?"` for anything else)."""
    if isinstance(message, bytes):
        return "?"
    try:
        event = json.loads(message).get("event")
    except (ValueError, AttributeError):
        return "?"
    return event if isinstance(event, str) else "?"


def json_message(
    message: str | bytes, code: int, carrier: str
) -> dict[str, Any] | ProtocolViolation:
    """`message` as a JSON object, or the violation `carrier` reports (with `code`)."""
    if isinstance(message, bytes):
        return ProtocolViolation(code, f"a binary frame ({carrier} takes JSON text frames only)")
    try:
        data = json.loads(message)
    except ValueError:
        return ProtocolViolation(code, "not valid JSON")
    if not isinstance(data, dict):
        return ProtocolViolation(code, "not a JSON object")
    return data

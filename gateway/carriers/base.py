"""The seam between a carrier's wire dialect and the call bridge.

A translator is created per media stream. `parse` turns one WebSocket message into carrier events
(`gateway.core.events`); `encode` turns one carrier command into one wire message. Translators
never raise on bad input: a malformed, oversized or unknown message becomes `MessageIgnored`.
"""

from __future__ import annotations

from typing import Protocol

from gateway.core.events import CarrierCommand, CarrierEvent

__all__ = ["MAX_CARRIER_MESSAGE_BYTES", "CarrierTranslator"]

MAX_CARRIER_MESSAGE_BYTES = 64 * 1024
"""Largest inbound carrier message a translator parses (20 ms of μ-law is ~0.4 KiB of JSON)."""


class CarrierTranslator(Protocol):
    """One media stream's dialect: wire messages in, events out; commands in, wire messages out."""

    carrier: str
    """Short carrier name for logs and routes (`twilio`)."""

    def parse(self, message: str | bytes) -> list[CarrierEvent]:
        """Events carried by one inbound message, in order (never raises)."""
        ...

    def encode(self, command: CarrierCommand) -> str | bytes:
        """The wire message for one command. Raises ValueError before the stream has started."""
        ...

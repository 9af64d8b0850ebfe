"""The seam between the bridge's call actions and each carrier's REST API (pure).

A `CallControl` builds the one HTTP request that performs a `Transfer` or `HangUp` on a live
call, and classifies the answer. The shell (`gateway.shell.call_control`) sends it. Vendor
URLs, field names and credentials stay here, beside the carrier's translator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from gateway.core.events import CallAction

__all__ = ["CallControl", "ControlOutcome", "RestRequest"]


@dataclass(frozen=True)
class RestRequest:
    """One carrier REST request. `headers` may carry credentials: never log them (not in repr)."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    form: Mapping[str, str] | None = field(default=None, repr=False)
    json: Mapping[str, Any] | None = field(default=None, repr=False)
    description: str = ""
    """What the request does, safe to log (`twilio call update: transfer to sales`)."""


class ControlOutcome(StrEnum):
    DONE = "done"
    """The carrier accepted the request."""
    ALREADY_ENDED = "already_ended"
    """The call had ended before the request arrived: not an error."""
    RETRY = "retry"
    """A transient failure (5xx, 429): the same request may be sent again."""
    FAILED = "failed"
    """A permanent failure (bad credentials, bad request): retrying cannot help."""


class CallControl(Protocol):
    """One carrier's call-control requests."""

    carrier: str

    def request(self, call_id: str, action: CallAction) -> RestRequest:
        """The request that performs `action` on the carrier's call `call_id`."""
        ...

    def outcome(self, status: int, body: bytes) -> ControlOutcome:
        """How to read the carrier's answer (HTTP `status`, raw `body`)."""
        ...

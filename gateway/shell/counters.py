"""The gateway's event counters: the routes and the runtime report facts, this counts them.

One `GatewayCounters` lives on the runtime (`runtime.counters`) for the life of the server; the
metrics exposition (`gateway.shell.metrics`) reads it at scrape time. Reporting is a method
call naming what happened (`webhook_rejected()`), never arithmetic on a shared attribute, so
what is counted, and under which label, is decided here only.
"""

from __future__ import annotations

from gateway.core.admission import REFUSAL_REASONS

__all__ = ["GatewayCounters"]


class GatewayCounters:
    """Counts since the process started (Prometheus counters: they only go up)."""

    def __init__(self) -> None:
        self.calls_ended = 0
        """Calls that ran and ended (each logged one `call.ended` line)."""
        self.webhooks_rejected = 0
        """Webhooks refused with an HTTP error (bad signature, too large, no call id)."""
        self.streams_rejected = 0
        """Media streams refused (bad upgrade signature, missing/invalid/reused token)."""
        self.refused: dict[str, int] = {}
        """Webhooks answered with the fallback, by reason (see `gateway.core.admission`)."""

    def call_ended(self) -> None:
        self.calls_ended += 1

    def webhook_rejected(self) -> None:
        self.webhooks_rejected += 1

    def stream_rejected(self) -> None:
        self.streams_rejected += 1

    def call_refused(self, reason: str) -> None:
        """A webhook's call got the fallback for `reason` (a limit's reason, or `no agent`)."""
        self.refused[reason] = self.refused.get(reason, 0) + 1

    def refusal_reasons(self) -> list[str]:
        """Every reason to expose: the known ones (at zero until seen), then any other a limit
        added to the admission reported."""
        return [*REFUSAL_REASONS, *sorted(set(self.refused) - set(REFUSAL_REASONS))]

"""How calls treated their callers, from each finished call's summary (issue 20): silence
check-ins and hang-ups.

Fed by `GatewayMetrics.observe` once per call (never per frame), from the `call.ended`
summary's figures.
"""

from __future__ import annotations

import math

from prometheus_client import CollectorRegistry, Counter

from gateway.shell.runtime import CallRecord

__all__ = ["ConductMetrics"]


def _count(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) and value > 0 else 0.0


class ConductMetrics:
    """The counters, registered in the app's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.silence = Counter(
            "gateway_call_silence",
            "Silent callers: check-ins the model was asked for (prompt), calls hung up after "
            "the goodbye (hang_up)",
            ["step"],
            registry=registry,
        )
        for step in ("prompt", "hang_up"):
            self.silence.labels(step)

    def observe(self, record: CallRecord) -> None:
        summary = record.summary
        self.silence.labels("prompt").inc(_count(summary.get("silence_prompts")))
        self.silence.labels("hang_up").inc(_count(summary.get("silence_hangups")))

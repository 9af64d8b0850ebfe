"""How calls treated their callers, from each finished call's summary (issue 20): silence
check-ins and hang-ups, keypad entries, holds; and the post-call webhooks' deliveries.

Fed by `GatewayMetrics.observe` once per call (never per frame), from the `call.ended`
summary's figures; the webhooks' counts and queue depth are read at scrape time (`watch`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.shell.call_webhooks import OUTCOMES, CallWebhooks
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
        self.holds = Counter(
            "gateway_call_holds", "Times callers heard the hold audio while a tool ran",
            registry=registry,
        )  # fmt: skip
        self.hold_seconds = Counter(
            "gateway_call_hold_seconds", "Hold audio callers heard", registry=registry
        )
        self._registry = registry

    def watch(self, webhooks: CallWebhooks | None) -> None:
        """Show the post-call webhooks' deliveries and queue depth (read at scrape time)."""
        if webhooks is not None:
            self._registry.register(_WebhookCollector(webhooks))

    def observe(self, record: CallRecord) -> None:
        summary = record.summary
        self.silence.labels("prompt").inc(_count(summary.get("silence_prompts")))
        self.silence.labels("hang_up").inc(_count(summary.get("silence_hangups")))
        self.holds.inc(_count(summary.get("holds")))
        self.hold_seconds.inc(_count(summary.get("hold_ms")) / 1000)


class _WebhookCollector(Collector):
    def __init__(self, webhooks: CallWebhooks) -> None:
        self._webhooks = webhooks

    def collect(self) -> Iterable[Metric]:
        deliveries = CounterMetricFamily(
            "gateway_call_webhook_deliveries",
            "Post-call webhook documents by outcome: delivered, retried (an attempt failed, "
            "another follows), failed (attempts or time used up, or refused), overflow (the "
            "queue was full), abandoned (not delivered by the last try at shutdown)",
            labels=["outcome"],
        )
        for outcome in OUTCOMES:
            deliveries.add_metric([outcome], self._webhooks.counts[outcome])
        yield deliveries
        yield GaugeMetricFamily(
            "gateway_call_webhook_queue_depth",
            "Post-call webhook documents waiting for delivery",
            value=self._webhooks.depth,
        )

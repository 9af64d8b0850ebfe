"""Dial-out metrics, read from the `DialOuts` registry at scrape time (docs/outbound.md)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from gateway.outbound.status import EndReason
from gateway.shell.dial_outs import DialOuts

__all__ = ["DialCollector"]


class DialCollector(Collector):
    def __init__(self, dials: DialOuts) -> None:
        self._dials = dials

    def collect(self) -> Iterable[Metric]:
        dials = self._dials
        yield CounterMetricFamily(
            "gateway_dial_outs_placed", "Dial-outs the carrier accepted", value=dials.placed
        )
        yield GaugeMetricFamily(
            "gateway_dial_outs_pending",
            "Dial-outs placed and not yet answered or ended (queued, ringing)",
            value=dials.pending,
        )
        ended = CounterMetricFamily(
            "gateway_dial_outs_ended", "Dial-outs ended, by outcome", labels=["outcome"]
        )
        for reason in EndReason:
            ended.add_metric([reason.value], dials.outcomes.get(reason.value, 0))
        yield ended
        verdicts = CounterMetricFamily(
            "gateway_dial_machine_detection",
            "Machine-detection verdicts on dial-outs, by who answered",
            labels=["answered_by"],
        )
        for who in ("person", "machine", "unknown"):
            verdicts.add_metric([who], dials.verdicts.get(who, 0))
        yield verdicts
        yield SummaryMetricFamily(
            "gateway_dial_time_to_answer_seconds",
            "From placing a dial-out to its answer",
            count_value=dials.answer_ms.count,
            sum_value=dials.answer_s_sum,
        )

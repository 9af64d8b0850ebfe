"""Prometheus metrics for `GET /metrics`: one registry per app, fed once per call, read at scrape.

Nothing here runs per audio frame. Two sources:

* the runtime's state, read when Prometheus scrapes (`_RuntimeCollector`): active calls,
  admission and drain, open Live sessions, pre-warm pool, webhook and stream rejections;
* each finished call's `CallRecord` (`GatewayMetrics.observe`, a runtime observer): outcome,
  duration, barge-ins, handovers and their gaps, tool calls and their latency, drops, and the
  gateway's added latency per direction; per agent profile, calls, Live tokens and estimated
  cost (`usage_metrics.py`). The latency samples a call collected (one per 20 ms
  frame) are bucketed with numpy in one step at call end (`BulkHistogram`), not one Prometheus
  call per frame.

Every label value that comes from a call (end reason, handover reason, tool name) is folded into
a short `snake_case` word and the number of distinct values per label is capped, so a free-text
reason can never grow the series count without bound. The metric names and suggested alerts are
in docs/operations.md.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from gateway.shell.conduct_metrics import ConductMetrics
from gateway.shell.latency import LatencySamples
from gateway.shell.runtime import CallRecord, GatewayRuntime
from gateway.shell.usage_metrics import UsageMetrics

__all__ = ["CONTENT_TYPE", "BulkHistogram", "GatewayMetrics", "label_value"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS_S = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0)
"""Added latency: the bar is p99 <= 5 ms (design section 4), so most buckets sit around it."""
CALL_DURATION_BUCKETS_S = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
HANDOVER_GAP_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
TOOL_BUCKETS_S = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MAX_LABEL_VALUES = 50
"""Distinct values one call-derived label may take; later new values are counted as `other`."""
LATENCY_DIRECTIONS = ("uplink", "downlink", "clear")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def label_value(value: object, fallback: str = "unknown") -> str:
    """A short snake_case label value (`carrier stop` -> `carrier_stop`, None -> fallback)."""
    if value is None:
        return fallback
    word = _NOT_WORD.sub("_", str(value).lower()).strip("_")[:40]
    return word or fallback


class _Labels:
    """Caps the distinct values of one label (a runaway reason becomes `other`)."""

    def __init__(self, limit: int = MAX_LABEL_VALUES) -> None:
        self._seen: set[str] = set()
        self._limit = limit

    def __call__(self, value: object, fallback: str = "unknown") -> str:
        word = label_value(value, fallback)
        if word in self._seen:
            return word
        if len(self._seen) >= self._limit:
            return "other"
        self._seen.add(word)
        return word


class BulkHistogram:
    """A labelled histogram fed many values at once (numpy), exposed through a collector.

    `prometheus_client.Histogram.observe` takes a lock and walks the buckets per value: fine
    per call, too slow for the thousands of per-frame samples a call hands over when it ends.
    """

    def __init__(self, name: str, documentation: str, label: str, buckets: Sequence[float]):
        self.name = name
        self.documentation = documentation
        self.label = label
        self.bounds = np.asarray(buckets, dtype=np.float64)
        self._counts: dict[str, np.ndarray[Any, np.dtype[np.int64]]] = {}
        self._sums: dict[str, float] = {}

    def observe_many(self, label: str, values: Iterable[float], weight: int = 1) -> None:
        """Add `values`, each counting `weight` times (a thinned sample stands for several)."""
        array = np.fromiter(values, dtype=np.float64)
        if array.size == 0:
            return
        slots = np.searchsorted(self.bounds, array, side="left")  # value <= bound: that bucket
        counts = np.bincount(slots, minlength=len(self.bounds) + 1).astype(np.int64) * weight
        if label in self._counts:
            self._counts[label] += counts
        else:
            self._counts[label] = counts
        self._sums[label] = self._sums.get(label, 0.0) + float(array.sum()) * weight

    def collect(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.documentation, labels=[self.label])
        for label, counts in sorted(self._counts.items()):
            cumulative = np.cumsum(counts)
            buckets = [
                (_bound(bound), float(total))
                for bound, total in zip(self.bounds, cumulative, strict=False)
            ]
            buckets.append(("+Inf", float(cumulative[-1])))
            family.add_metric([label], buckets, sum_value=self._sums[label])
        return family


def _bound(value: float) -> str:
    return repr(float(value))


class GatewayMetrics:
    """The app's registry. Create once per runtime; it subscribes to the runtime's calls."""

    def __init__(self, runtime: GatewayRuntime, *, standard_collectors: bool = True) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        if standard_collectors:  # process CPU, memory, fds; Python version; GC, in our registry
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
            GCCollector(registry=registry)
        self.calls = Counter(
            "gateway_calls",
            "Calls ended, by carrier and outcome (the call.ended end_reason)",
            ["carrier", "outcome"],
            registry=registry,
        )
        self.call_duration = Histogram(
            "gateway_call_duration_seconds",
            "Length of ended calls (stream start to end)",
            buckets=CALL_DURATION_BUCKETS_S,
            registry=registry,
        )
        self.barge_ins = Counter(
            "gateway_barge_ins", "Caller barge-ins (Live interrupted the agent)", registry=registry
        )
        self.turns = Counter("gateway_turns", "Agent turns completed", registry=registry)
        self.handovers = Counter(
            "gateway_live_handovers",
            "Live session handovers (goAway, abrupt close), by reason and outcome",
            ["reason", "outcome"],
            registry=registry,
        )
        self.handover_gap = Histogram(
            "gateway_live_handover_gap_seconds",
            "Gap in the conversation while a call moved to a new Live session",
            buckets=HANDOVER_GAP_BUCKETS_S,
            registry=registry,
        )
        self.tool_calls = Counter(
            "gateway_tool_calls", "Tool calls, by tool and outcome", ["tool", "outcome"],
            registry=registry,
        )  # fmt: skip
        self.tool_duration = Histogram(
            "gateway_tool_call_duration_seconds",
            "Time from the model's tool call to the response sent back",
            ["tool"],
            buckets=TOOL_BUCKETS_S,
            registry=registry,
        )
        self.frames_dropped = Counter(
            "gateway_frames_dropped",
            "Caller audio messages dropped because the Live socket did not keep up "
            "(drop-oldest-audio queue)",
            ["where"],
            registry=registry,
        )
        self.audio_dropped = Counter(
            "gateway_audio_dropped_seconds",
            "Audio dropped: held model audio cut by a barge-in or end (held), caller audio the "
            "bridge could not send (caller), caller audio beyond the connect buffer "
            "(connect_buffer) or the reconnect buffer (reconnect_buffer), caller audio the Live "
            "socket did not take (live_queue), model audio beyond the bound ahead of the "
            "carrier (model)",
            ["where"],
            registry=registry,
        )
        self.carrier_input_dropped = Counter(
            "gateway_carrier_input_dropped",
            "What came from carriers and was counted instead of used or logged: keypresses "
            "beyond the DTMF gate (dtmf_digits), log lines beyond each call's budget "
            "(log_lines)",
            ["what"],
            registry=registry,
        )
        self.fallbacks = Counter(
            "gateway_call_fallbacks",
            "Calls sent to the fallback (message, transfer) after they started, by reason",
            ["reason"],
            registry=registry,
        )
        self.internal_errors = Counter(
            "gateway_call_internal_errors",
            "Internal errors (bugs) in calls: each sent its call to the fallback or ended it",
            registry=registry,
        )
        self.latency = BulkHistogram(
            "gateway_added_latency_seconds",
            "Latency the gateway adds: carrier frame in -> Live frame out (uplink), Live audio in "
            "-> carrier frame out (downlink), Live interrupted -> carrier clear (clear)",
            "direction",
            LATENCY_BUCKETS_S,
        )
        self._outcomes = _Labels()
        self._reasons = _Labels()
        self._tools = _Labels()
        self.usage = UsageMetrics(
            registry, profiles=_Labels(), modalities=_Labels(10), currencies=_Labels(10)
        )
        self.conduct = ConductMetrics(registry)  # silence, keypad entry, webhooks
        registry.register(_RuntimeCollector(runtime, self.latency))
        runtime.observers.append(self.observe)

    def observe(self, record: CallRecord) -> None:
        """Account one finished call (a runtime observer: once per call, never per frame)."""
        summary = record.summary
        outcome = self._outcomes(summary.get("end_reason"))
        self.calls.labels(label_value(record.carrier), outcome).inc()
        duration_ms = _number(summary.get("duration_ms"))
        if duration_ms is not None:
            self.call_duration.observe(duration_ms / 1000)
        self.barge_ins.inc(_number(summary.get("interruptions")) or 0)
        self.turns.inc(_number(summary.get("turns")) or 0)
        # Counted exactly from `handover_counts`; the gaps of the sampled handovers only (a
        # call lists its first and last ones: `gateway.core.handover_log`).
        counts = summary.get("handover_counts")
        for count in _dicts(counts if counts is not None else summary.get("handovers", [])):
            reason = self._reasons(count.get("reason"))
            outcome = label_value(count.get("outcome"))
            self.handovers.labels(reason, outcome).inc(_number(count.get("count", 1)) or 0)
        for handover in _dicts(summary.get("handovers", [])):
            gap_ms = _number(handover.get("gap_ms"))
            if gap_ms is not None:
                self.handover_gap.observe(gap_ms / 1000)
        for tool in _dicts(summary.get("tools", [])):
            name = self._tools(tool.get("name"))
            self.tool_calls.labels(name, label_value(tool.get("outcome"))).inc()
            took_ms = _number(tool.get("duration_ms"))
            if took_ms is not None:
                self.tool_duration.labels(name).observe(took_ms / 1000)
        self.frames_dropped.labels("live_queue").inc(
            _number(summary.get("live_queue_dropped")) or 0
        )
        for where in ("held", "caller", "connect_buffer", "reconnect_buffer", "live_queue"):
            dropped_ms = _number(summary.get(f"{where}_dropped_ms")) or 0
            self.audio_dropped.labels(where).inc(dropped_ms / 1000)
        self.carrier_input_dropped.labels("dtmf_digits").inc(
            _number(summary.get("dtmf_dropped")) or 0
        )
        suppressed = summary.get("logs_suppressed")
        if isinstance(suppressed, dict):
            lines = sum(n for n in suppressed.values() if isinstance(n, int))
            self.carrier_input_dropped.labels("log_lines").inc(lines)
        model_dropped_ms = _number(summary.get("model_audio_dropped_ms")) or 0
        self.audio_dropped.labels("model").inc(model_dropped_ms / 1000)
        self.internal_errors.inc(_number(summary.get("internal_errors")) or 0)
        fallback = summary.get("fallback")
        if fallback:
            self.fallbacks.labels(self._reasons(fallback)).inc()
        for direction in LATENCY_DIRECTIONS:
            samples = record.latency_ms.get(direction)
            if isinstance(samples, LatencySamples) and samples.count:
                kept, weight = samples.kept()
                self.latency.observe_many(direction, (ms / 1000 for ms in kept), weight)
        self.usage.observe(record)  # per profile: calls, Live tokens, estimated cost
        self.conduct.observe(record)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def _dicts(value: object) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, list | tuple):
        yield from (item for item in value if isinstance(item, Mapping))


class _RuntimeCollector(Collector):
    """Runtime state read at scrape time, plus the bulk latency histogram."""

    def __init__(self, runtime: GatewayRuntime, latency: BulkHistogram) -> None:
        self._runtime = runtime
        self._latency = latency

    def collect(self) -> Iterable[Metric]:
        runtime = self._runtime
        connector = runtime.connector
        load = runtime.load
        active = len(runtime.calls)
        yield _gauge("gateway_active_calls", "Calls running now (media stream open)", active)
        yield _gauge(
            "gateway_calls_awaiting_stream",
            "Calls answered at the webhook whose media stream has not started yet",
            load - active,
        )
        yield _gauge(
            "gateway_max_calls",
            "Admission limit (GATEWAY_MAX_CALLS)",
            runtime.settings.server.max_calls,
        )
        yield _gauge("gateway_draining", "1 while the gateway drains (SIGTERM)", runtime.draining)
        yield _gauge(
            "gateway_ready", "1 when a new call would be admitted (GET /readyz)", runtime.ready
        )
        yield _gauge(
            "gateway_live_sessions",
            "Live sessions open now (calls, pre-warmed, resuming)",
            connector.open_sessions,
        )
        tasks = _event_loop_tasks()
        if tasks is not None:
            yield _gauge(
                "gateway_event_loop_tasks",
                "asyncio tasks alive in the gateway's event loop (flat when nothing leaks)",
                tasks,
            )
        yield _counter(
            "gateway_live_sessions_opened", "Live sessions opened (setupComplete)", connector.opened
        )
        yield _counter(
            "gateway_live_connect_failures", "Live session opens that failed", connector.failed
        )
        yield _gauge(
            "gateway_prewarm_pending", "Pre-warmed Live sessions waiting for their stream",
            len(runtime.prewarm),
        )  # fmt: skip
        yield _counter(
            "gateway_prewarm_expired",
            "Pre-warmed Live sessions closed because no stream claimed them",
            runtime.prewarm.expired,
        )
        yield _counter(
            "gateway_webhooks_rejected",
            "Webhooks refused with an HTTP error (bad signature, too large, no CallSid)",
            runtime.counters.webhooks_rejected,
        )
        yield _counter(
            "gateway_streams_rejected",
            "Media streams refused (bad upgrade signature, missing/invalid/reused token)",
            runtime.counters.streams_rejected,
        )
        guard = runtime.http_guard
        if guard is not None:
            yield _gauge(
                "gateway_http_connections_waiting",
                "HTTP connections that have not sent a complete request yet",
                guard.waiting,
            )
            closed = CounterMetricFamily(
                "gateway_http_connections_closed",
                "HTTP connections closed before a complete request: no request within the "
                "deadline (timeout), or the longest waiting when too many waited (evicted)",
                labels=["reason"],
            )
            closed.add_metric(["timeout"], guard.timed_out)
            closed.add_metric(["evicted"], guard.evicted)
            yield closed
        refused = CounterMetricFamily(
            "gateway_webhooks_refused",
            "Webhooks answered with the fallback instead of the agent, by reason",
            labels=["reason"],
        )
        for reason in runtime.counters.refusal_reasons():
            refused.add_metric([label_value(reason)], runtime.counters.refused.get(reason, 0))
        yield refused
        cluster = runtime.cluster
        if cluster is not None:
            yield _gauge(
                "gateway_cluster_redis_up",
                "1 while Redis answers (cluster mode)",
                cluster.available,
            )
            yield _counter(
                "gateway_cluster_redis_failures",
                "Redis calls and pings that failed or timed out (cluster mode)",
                cluster.link.failures,
            )
            calls = cluster.slots.cluster_calls
            if calls is not None:
                yield _gauge(
                    "gateway_cluster_calls",
                    "Slots held across the cluster at the last look (calls and pre-warms)",
                    calls,
                )
            yield _gauge(
                "gateway_cluster_slots_held",
                "Cluster slots this replica holds",
                len(cluster.slots.held),
            )
            yield _counter(
                "gateway_cluster_handovers",
                "Calls this replica handed over to another while draining",
                cluster.handovers,
            )
            yield _counter(
                "gateway_cluster_carried_on",
                "Streams that carried on a call another replica had (death or drain)",
                cluster.carried_on,
            )
        yield self._latency.collect()


def _event_loop_tasks() -> int | None:
    """Tasks of the running loop; None when scraped outside one (tests, other threads)."""
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:
        return None


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=float(value))

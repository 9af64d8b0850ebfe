"""GatewayCounters: reported facts become counts, under the reasons the metrics expose."""

from __future__ import annotations

from gateway.core.admission import AT_CAPACITY, NO_AGENT
from gateway.shell.counters import GatewayCounters


def test_each_report_counts_once_under_its_name() -> None:
    counters = GatewayCounters()
    counters.webhook_rejected()
    counters.stream_rejected()
    counters.stream_rejected()
    counters.call_ended()
    counters.call_refused(AT_CAPACITY)
    counters.call_refused(AT_CAPACITY)
    counters.call_refused(NO_AGENT)
    assert (counters.webhooks_rejected, counters.streams_rejected, counters.calls_ended) == (
        1,
        2,
        1,
    )
    assert counters.refused == {"at capacity": 2, "no agent": 1}


def test_reasons_exposed_are_the_known_ones_then_any_new_one() -> None:
    counters = GatewayCounters()
    known = ["at capacity", "draining", "no agent", "cluster at capacity", "cluster unavailable"]
    assert counters.refusal_reasons() == known
    counters.call_refused("region closed")  # a limit added later: counted, exposed
    assert counters.refusal_reasons() == [*known, "region closed"]
    assert counters.refused == {"region closed": 1}

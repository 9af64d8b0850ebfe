"""LatencySamples: nearest-rank percentiles, bounded memory."""

from __future__ import annotations

from gateway.shell.latency import LatencySamples


def test_percentiles_are_nearest_rank() -> None:
    samples = LatencySamples()
    for value in range(1, 101):
        samples.add(float(value))
    assert samples.percentile(0.5) == 50.0
    assert samples.percentile(0.99) == 99.0
    assert samples.percentile(1.0) == 100.0
    assert samples.summary("up") == {
        "up_p50_ms": 50.0,
        "up_p99_ms": 99.0,
        "up_max_ms": 100.0,
        "up_samples": 100,
    }


def test_empty_summary_is_none() -> None:
    assert LatencySamples().summary("x")["x_p50_ms"] is None


def test_memory_stays_bounded_and_counts_everything() -> None:
    samples = LatencySamples(capacity=64)
    for value in range(10_000):
        samples.add(float(value % 10))
    assert samples.count == 10_000
    assert len(samples._samples) < 64
    assert samples.percentile(0.5) in {4.0, 5.0}

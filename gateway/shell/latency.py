"""Per-call latency samples (ms) with percentiles for the `call.ended` summary and benchmarks."""

from __future__ import annotations

import math

__all__ = ["LatencySamples"]


class LatencySamples:
    """Up to `capacity` samples in ms; beyond that every other sample is kept (bounded memory)."""

    def __init__(self, capacity: int = 65_536) -> None:
        self._samples: list[float] = []
        self._capacity = capacity
        self._stride = 1
        self._seen = 0

    def add(self, value_ms: float) -> None:
        self._seen += 1
        if self._seen % self._stride:
            return
        self._samples.append(value_ms)
        if len(self._samples) >= self._capacity:
            # Halve: keep every other sample and from now on every other new one too.
            self._samples = self._samples[::2]
            self._stride *= 2

    @property
    def count(self) -> int:
        return self._seen

    def kept(self) -> tuple[list[float], int]:
        """The samples kept and how many seen samples each stands for (1 until halved)."""
        return self._samples, self._stride

    def percentile(self, fraction: float) -> float | None:
        """The nearest-rank percentile (0 < fraction <= 1), or None without samples."""
        if not self._samples:
            return None
        ordered = sorted(self._samples)
        rank = max(1, math.ceil(fraction * len(ordered)))
        return ordered[rank - 1]

    def summary(self, prefix: str) -> dict[str, float | int | None]:
        """`{prefix}_p50_ms`, `{prefix}_p99_ms`, `{prefix}_max_ms` rounded to µs, and the count."""
        top = max(self._samples) if self._samples else None
        return {
            f"{prefix}_p50_ms": _round(self.percentile(0.5)),
            f"{prefix}_p99_ms": _round(self.percentile(0.99)),
            f"{prefix}_max_ms": _round(top),
            f"{prefix}_samples": self._seen,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)

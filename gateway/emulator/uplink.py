"""A bounded window of recent caller audio, indexed by sample count since the stream began."""

from __future__ import annotations

from collections import deque

import numpy as np
import numpy.typing as npt

__all__ = ["AudioWindow"]


class AudioWindow:
    """Keeps the last `idle_s` of audio, or up to `max_s` while an utterance is being collected."""

    def __init__(self, rate_hz: int, max_s: float, idle_s: float = 1.0) -> None:
        self.rate_hz = rate_hz
        self._max = max(1, round(rate_hz * max_s))
        self._idle = max(1, round(rate_hz * idle_s))
        self._chunks: deque[npt.NDArray[np.int16]] = deque()
        self.start = 0
        self.end = 0

    def append(self, samples: npt.NDArray[np.int16], *, keep_all: bool) -> None:
        if len(samples) == 0:
            return
        self._chunks.append(samples)
        self.end += len(samples)
        limit = self._max if keep_all else self._idle
        while len(self._chunks) > 1 and self.end - self.start - len(self._chunks[0]) >= limit:
            self.start += len(self._chunks.popleft())

    def slice(self, first: int, last: int) -> npt.NDArray[np.int16]:
        """Samples [first, last) that are still held (clipped to the window)."""
        first = max(first, self.start)
        last = min(last, self.end)
        if last <= first or not self._chunks:
            return np.zeros(0, dtype=np.int16)
        held = np.concatenate(list(self._chunks))
        return held[first - self.start : last - self.start]

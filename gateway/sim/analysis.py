"""Reading a finished call's audio: speech segments, answer latency, barge-ins. No clock.

Segments come from frame energy (10 ms frames above a dBFS threshold, short gaps bridged), so
they measure what was *audible*, whatever the gateway sent: a gateway streaming silence frames
between answers does not count as speaking.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from gateway.sim.entries import BargeIn, ClearRecord, Segment
from gateway.sim.script import CALL_RATE_HZ

__all__ = [
    "AUDIBLE_DBFS",
    "answer_latency_ms",
    "barge_ins",
    "frame_levels_dbfs",
    "speech_segments",
]

AUDIBLE_DBFS = -40.0
"""Frame level above which audio counts as speech (telephone speech sits around -20 dBFS)."""

_FRAME_MS = 10


def frame_levels_dbfs(
    samples: npt.NDArray[np.int16], rate_hz: int = CALL_RATE_HZ, frame_ms: int = _FRAME_MS
) -> npt.NDArray[np.float64]:
    """RMS level of each whole frame in dBFS (-inf-safe: silence is about -200 dBFS)."""
    size = rate_hz * frame_ms // 1000
    count = len(samples) // size
    frames = samples[: count * size].astype(np.float64).reshape(count, size)
    rms = np.sqrt(np.mean(frames**2, axis=1)) if count else np.zeros(0)
    levels: npt.NDArray[np.float64] = 20 * np.log10(np.maximum(rms, 1e-6) / 32768.0)
    return levels


def speech_segments(
    samples: npt.NDArray[np.int16],
    rate_hz: int = CALL_RATE_HZ,
    *,
    threshold_dbfs: float = AUDIBLE_DBFS,
    merge_gap_ms: float = 300.0,
    min_ms: float = 40.0,
) -> list[Segment]:
    """Stretches of frames above `threshold_dbfs`, gaps shorter than `merge_gap_ms` bridged."""
    loud = frame_levels_dbfs(samples, rate_hz) > threshold_dbfs
    segments: list[Segment] = []
    edges = np.flatnonzero(np.diff(np.concatenate([[False], loud, [False]]).astype(np.int8)))
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        start_ms, end_ms = float(start * _FRAME_MS), float(end * _FRAME_MS)
        if segments and start_ms - segments[-1].end_ms < merge_gap_ms:
            segments[-1] = Segment(segments[-1].start_ms, end_ms)
        else:
            segments.append(Segment(start_ms, end_ms))
    return [s for s in segments if s.duration_ms >= min_ms]


def answer_latency_ms(caller: Sequence[Segment], heard: Sequence[Segment]) -> float | None:
    """From the end of the caller's first utterance to the first audible audio after it."""
    if not caller:
        return None
    end = caller[0].end_ms
    starts = [segment.start_ms for segment in heard if segment.start_ms >= end]
    return min(starts) - end if starts else None


def barge_ins(
    caller: Sequence[Segment],
    heard: Sequence[Segment],
    clears: Sequence[ClearRecord],
    playing: Sequence[Segment] = (),
    *,
    merge_gap_ms: float = 300.0,
) -> list[BargeIn]:
    """Each caller utterance that started while the gateway was speaking to the caller.

    The gateway was speaking when the caller's start falls inside an audible `heard` segment,
    or, when `playing` intervals are given, when it falls in a quiet moment shortly after
    audible audio (within `merge_gap_ms`) of a playback that a clear then cut: the answer was
    still coming out and the gateway stopped it. Trailing silence that simply ran on is not
    speaking. The audio stopped at the audible end, or at the clear that cut it; `cleared` says
    whether a clear arrived between the caller's start and shortly after that stop.
    """
    found: list[BargeIn] = []
    for utterance in caller:
        at = utterance.start_ms
        segment = next((s for s in heard if s.start_ms < at < s.end_ms + merge_gap_ms), None)
        if segment is None:
            continue
        interval = next((p for p in playing if p.start_ms <= at < p.end_ms), None)
        # Playback ends on a sample boundary at or just before the clear's time.
        cut = interval is not None and any(abs(c.at_ms - interval.end_ms) < 1 for c in clears)
        if at < segment.end_ms:
            stopped = segment.end_ms
            if cut and interval is not None and interval.end_ms <= segment.end_ms + merge_gap_ms:
                stopped = max(stopped, interval.end_ms)
        elif cut and interval is not None:
            stopped = interval.end_ms
        else:
            continue
        cleared = any(at <= clear.at_ms <= stopped + merge_gap_ms for clear in clears)
        found.append(BargeIn(at, stopped, cleared, utterance.text))
    return found

"""A call's stereo recording as heard: caller left, agent right, at the carrier's rate.

The call's media clock is the caller stream: carriers send caller audio continuously in real time
(silence included), so the number of caller samples received is "now" in samples. Agent audio is
what the gateway queued at the carrier; the carrier plays its queue back to back from when each
payload arrives, so a payload starts at `max(clock, end of the queue)`. A barge-in `clear()` drops
the queue beyond the clock: that audio was never heard and never reaches the recording.

Everything before the clock is settled, so `take()` hands it out as interleaved PCM16 frames and
forgets it; the recorder only holds what has not been taken (the caller audio since the last take,
and agent audio queued ahead). Pure: no I/O, no clock; the shell writes the frames where it likes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from gateway.audio import g711
from gateway.audio.paths import CarrierFormat, Encoding
from gateway.audio.resample import Resampler

__all__ = ["CallRecorder"]

_PCM16_LE = np.dtype("<i2")


def _l16_decode(payload: bytes) -> bytes:
    return payload


_DECODERS: dict[Encoding, Callable[[bytes], bytes]] = {
    Encoding.MULAW: g711.ulaw_decode,
    Encoding.ALAW: g711.alaw_decode,
    Encoding.L16: _l16_decode,
}
_ENCODERS: dict[Encoding, Callable[[npt.NDArray[np.float64]], bytes]] = {
    Encoding.MULAW: g711.ulaw_from_exact,
    Encoding.ALAW: g711.alaw_from_exact,
    Encoding.L16: g711.pcm16_from_exact,
}


@dataclass
class _Segment:
    """Agent audio playing back to back from `start` (in samples of the call clock)."""

    start: int
    data: bytearray = field(default_factory=bytearray)  # carrier encoding, whole samples


class CallRecorder:
    """Stereo recording of one call as heard: caller left, agent right, at the carrier's rate.

    Feed it every inbound caller payload (`caller`), every payload queued at the carrier
    (`agent`) and every barge-in (`clear`); call `take()` now and then to collect the settled
    frames, and `finish()` once at the end. Frames are interleaved little-endian PCM16 (L, R).
    """

    def __init__(self, fmt: CarrierFormat) -> None:
        self._fmt = fmt
        self._width = fmt.bytes_per_sample
        self._decode = _DECODERS[fmt.encoding]
        # Agent audio at another rate than the caller's (the web softphone's 24 kHz playback)
        # is brought to the caller's rate as it is queued: one clock, one WAV rate.
        self._agent_rate: Resampler | None = None
        if fmt.playback.rate_hz != fmt.rate_hz:
            self._agent_rate = Resampler(fmt.playback.rate_hz, fmt.rate_hz)
        # Buffers hold raw carrier bytes and are decoded in one go in take(): appending to a
        # bytearray every 20 ms costs far less than a numpy concatenation or a decode call does.
        self._left = bytearray()  # caller audio from `_taken` up to `_clock`
        self._right: list[_Segment] = []  # agent audio at or after `_taken`, in order
        self._taken = 0  # samples handed out by take()
        self._clock = 0  # caller samples received: the recording's length
        self._origin_ms: float | None = None  # call time of sample 0, from the least-late frame
        self._queue_end = 0  # where the next agent payload would start playing (at the earliest)
        self._agent_samples = 0  # agent samples ever queued
        self._cleared_samples = 0  # agent samples a clear() removed
        self._ended_unplayed = 0  # agent samples still queued when the call ended
        self._finished = False

    @property
    def rate_hz(self) -> int:
        return self._fmt.rate_hz

    def caller(self, payload: bytes, now_ms: float | None = None) -> None:
        """One inbound caller payload (carrier encoding): the left channel, and the clock.

        `now_ms` (when it arrived) lets the recorder tell real time from the caller stream's own
        count: frames that arrive late and then in a burst do not pull the agent's audio early."""
        if self._finished:
            return
        samples = len(payload) // self._width
        # An L16 payload with an odd trailing byte: keep the whole samples only.
        whole = samples * self._width
        self._left += payload if whole == len(payload) else payload[:whole]
        self._clock += samples
        if now_ms is not None:
            # The frame that arrived least late says best when sample 0 was: the smallest
            # (arrival - position) over the call (network delay only ever adds to it).
            origin = now_ms - self._ms(self._clock)
            if self._origin_ms is None or origin < self._origin_ms:
                self._origin_ms = origin

    def _now(self, now_ms: float | None) -> int:
        """The call's present in samples: the caller stream's count, or real time when that is
        further on (the caller's frames are late)."""
        if now_ms is None or self._origin_ms is None:
            return self._clock
        elapsed = int((now_ms - self._origin_ms) * self._fmt.rate_hz / 1000.0)
        return max(self._clock, elapsed)

    def agent(self, payload: bytes, now_ms: float | None = None) -> None:
        """A payload queued at the carrier: it plays after what is queued, or now if nothing is."""
        if self._finished:
            return
        if self._agent_rate is not None:
            pcm = g711.pcm16_samples(
                self._decode(payload[: len(payload) // self._width * self._width])
            )
            payload = _ENCODERS[self._fmt.encoding](self._agent_rate.process_exact(pcm))
        samples = len(payload) // self._width
        if samples == 0:
            return
        start = max(self._now(now_ms), self._queue_end)
        if not self._right or self._segment_end(self._right[-1]) != start:
            self._right.append(_Segment(start))
        self._right[-1].data += payload[: samples * self._width]
        self._queue_end = start + samples
        self._agent_samples += samples

    def clear(self, now_ms: float | None = None) -> None:
        """Barge-in: the carrier dropped all it had not played (agent audio from now on)."""
        if self._finished:
            return
        if self._agent_rate is not None:
            self._agent_rate.reset()
        self._cleared_samples += self._drop_after(self._now(now_ms))

    def take(self) -> bytes:
        """Interleaved stereo PCM16 LE frames from the last take up to the clock (settled audio)."""
        if self._finished:
            return b""
        return self._settle()

    def finish(self) -> bytes:
        """The rest up to the clock; agent audio still queued beyond it was never heard."""
        if self._finished:
            return b""
        self._ended_unplayed = self._drop_after(self._clock)
        frames = self._settle()
        self._finished = True
        return frames

    @property
    def caller_ms(self) -> float:
        """Caller audio received: the length of the recording so far."""
        return self._ms(self._clock)

    @property
    def agent_heard_ms(self) -> float:
        """Agent audio played before the clock (so far heard by the caller)."""
        unplayed = max(0, self._queue_end - self._clock)
        never = self._cleared_samples + self._ended_unplayed + unplayed
        return self._ms(self._agent_samples - never)

    @property
    def agent_cleared_ms(self) -> float:
        """Agent audio queued but dropped by a barge-in before it played."""
        return self._ms(self._cleared_samples)

    @property
    def pending_bytes(self) -> int:
        """Bytes held for frames not yet taken (what the recorder keeps in memory)."""
        return len(self._left) + sum(len(s.data) for s in self._right)

    def _ms(self, samples: int) -> float:
        return samples * 1000.0 / self._fmt.rate_hz

    def _segment_end(self, segment: _Segment) -> int:
        return segment.start + len(segment.data) // self._width

    def _drop_after(self, position: int) -> int:
        """Remove agent audio at or beyond `position` (>= the clock); returns samples removed."""
        # Audio queued ahead of the present is contiguous (a gap only ever opens before it), so
        # only the last segments can reach past it.
        removed = max(0, self._queue_end - position)
        while self._right and self._right[-1].start >= position:
            self._right.pop()
        if self._right:
            last = self._right[-1]
            keep = max(0, position - last.start) * self._width
            del last.data[keep:]
        self._queue_end = max(position, self._queue_end - removed)
        return removed

    def _settle(self) -> bytes:
        count = self._clock - self._taken
        if count == 0:
            return b""
        left = np.frombuffer(self._decode(bytes(self._left)), dtype=_PCM16_LE)
        self._left.clear()
        frames = np.zeros((count, 2), dtype=_PCM16_LE)
        frames[:, 0] = left
        kept: list[_Segment] = []
        for segment in self._right:
            if segment.start >= self._clock:
                kept.append(segment)
                continue
            played = min(self._segment_end(segment), self._clock) - segment.start
            cut = played * self._width
            offset = segment.start - self._taken
            samples = self._decode(bytes(memoryview(segment.data)[:cut]))
            frames[offset : offset + played, 1] = np.frombuffer(samples, dtype=_PCM16_LE)
            if cut < len(segment.data):
                # The part still queued starts at the clock; a new bytearray frees the rest.
                kept.append(_Segment(self._clock, bytearray(segment.data[cut:])))
        self._right = kept
        self._taken = self._clock
        return frames.tobytes()

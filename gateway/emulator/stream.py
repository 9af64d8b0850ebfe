"""Stream mode's answer: every piece of caller audio echoed back as it arrives, no turn-taking.

For load measurements where the model talks as much as the caller: each audio chunk the
emulator receives is resampled to 24 kHz at once (one stateful resampler per stream, so the
echo is the caller's audio exactly as echo mode would produce it) and goes out in `chunk_ms`
chunks as soon as a whole chunk is there. The turn starts with the first audio and lasts until
the audio stops (`audioStreamEnd`, or no audio for the VAD's silence duration); there is no VAD,
no `interrupted` and no transcription. Synchronous and clock-free, like the rest of the
conversation logic.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from gateway.audio.resample import Resampler
from gateway.emulator.replies import OUTPUT_RATE_HZ, audio_message

__all__ = ["EchoStream"]


class EchoStream:
    """The model's side of one stream-mode turn at a time: audio in, 24 kHz chunk messages out."""

    def __init__(self, chunk_samples: int) -> None:
        self._chunk = max(1, chunk_samples)
        self._resampler: Resampler | None = None
        self._rate_hz = 0
        self._pending = np.zeros(0, dtype=np.int16)
        self.in_turn = False
        self.heard_s = 0.0
        """Caller audio in the current turn, in seconds."""
        self.said_samples = 0
        """Model audio sent in the current turn, in 24 kHz samples."""

    def feed(self, samples: npt.NDArray[np.int16], rate_hz: int) -> list[dict[str, object]]:
        """The caller's next samples; returns the audio messages now complete (maybe none).

        A change of input rate flushes the old stream's tail first (a rate change is a new
        stream, as in the VAD)."""
        if rate_hz != self._rate_hz:
            self._flush_resampler()
            self._rate_hz = rate_hz
            self._resampler = (
                None if rate_hz == OUTPUT_RATE_HZ else Resampler(rate_hz, OUTPUT_RATE_HZ)
            )
        self.in_turn = True
        self.heard_s += len(samples) / rate_hz
        converted = samples if self._resampler is None else self._resampler.process(samples)
        self._append(converted)
        return self._whole_chunks()

    def end_turn(self) -> list[dict[str, object]]:
        """The audio stopped: the resampler's tail and every held sample, as one last message."""
        self._flush_resampler()
        out = self._whole_chunks()
        if len(self._pending):
            out.append(self._message(self._pending))
            self._pending = np.zeros(0, dtype=np.int16)
        self.in_turn = False
        return out

    def reset_turn_counts(self) -> tuple[float, float]:
        """(caller seconds heard, model seconds said) of the turn that ended; counts restart."""
        counts = (self.heard_s, self.said_samples / OUTPUT_RATE_HZ)
        self.heard_s = 0.0
        self.said_samples = 0
        return counts

    def _flush_resampler(self) -> None:
        """The filter's ring-out into the held samples (the resampler starts afresh after)."""
        if self._resampler is not None:
            self._append(self._resampler.flush())

    def _append(self, samples: npt.NDArray[np.int16]) -> None:
        if len(samples):
            self._pending = np.concatenate([self._pending, samples.astype(np.int16, copy=False)])

    def _whole_chunks(self) -> list[dict[str, object]]:
        whole = len(self._pending) // self._chunk
        out = [
            self._message(self._pending[k * self._chunk : (k + 1) * self._chunk])
            for k in range(whole)
        ]
        self._pending = self._pending[whole * self._chunk :]
        return out

    def _message(self, chunk: npt.NDArray[np.int16]) -> dict[str, object]:
        self.said_samples += len(chunk)
        return audio_message(chunk.astype("<i2").tobytes())

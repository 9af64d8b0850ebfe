"""The model's spoken answers: echo or tone audio at 24 kHz, cut into chunks, paced by deadline.

A `Reply` knows when each chunk is due (generation runs `lead_s` ahead of real-time playback, as
production does) and when playback ends (`turnComplete` time). No clock: times are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from gateway.live.wire import b64encode

__all__ = ["OUTPUT_RATE_HZ", "Reply", "audio_message", "echo_audio", "tone_audio"]

OUTPUT_RATE_HZ = 24_000
_FADE_S = 0.005


def echo_audio(samples: npt.NDArray[np.int16], rate_hz: int) -> npt.NDArray[np.int16]:
    """The caller's audio resampled to 24 kHz (the whole utterance, filter tail included)."""
    if rate_hz == OUTPUT_RATE_HZ or len(samples) == 0:
        return samples.astype(np.int16, copy=True)
    from gateway.audio.resample import Resampler

    resampler = Resampler(rate_hz, OUTPUT_RATE_HZ)
    head = resampler.process(samples)
    tail = resampler.flush()
    return np.concatenate([head, tail]).astype(np.int16, copy=False)


@lru_cache(maxsize=16)
def _one_second(frequency_hz: float, level_dbfs: float) -> npt.NDArray[np.float64]:
    t = np.arange(OUTPUT_RATE_HZ) / OUTPUT_RATE_HZ
    wave = 32767.0 * 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * frequency_hz * t)
    wave.flags.writeable = False
    return wave


def tone_audio(duration_s: float, frequency_hz: float, level_dbfs: float) -> npt.NDArray[np.int16]:
    """A sine tone at 24 kHz with 5 ms fades (no clicks). Whole-hertz tones repeat every second,
    so one cached second is tiled; other frequencies are computed."""
    count = max(0, round(duration_s * OUTPUT_RATE_HZ))
    if float(frequency_hz).is_integer():
        wave = np.resize(_one_second(frequency_hz, level_dbfs), count)
    else:
        t = np.arange(count) / OUTPUT_RATE_HZ
        wave = 32767.0 * 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * frequency_hz * t)
    fade = min(count // 2, round(_FADE_S * OUTPUT_RATE_HZ))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        wave[:fade] *= ramp
        wave[count - fade :] *= ramp[::-1]
    return np.round(wave).astype(np.int16)


def audio_message(pcm: bytes) -> dict[str, object]:
    """A `serverContent.modelTurn` message carrying 24 kHz PCM."""
    part = {"inlineData": {"mimeType": f"audio/pcm;rate={OUTPUT_RATE_HZ}", "data": b64encode(pcm)}}
    return {"serverContent": {"modelTurn": {"parts": [part]}}}


@dataclass
class Reply:
    """One model turn in flight. `start_s` is when its first audio sample plays."""

    start_s: float
    samples: npt.NDArray[np.int16]
    text: str
    chunk_samples: int
    lead_s: float
    source: npt.NDArray[np.int16] | None = None
    """The caller utterance this answers (None for text, client content, tool results)."""
    next_chunk: int = 0
    started: bool = False
    generation_complete_sent: bool = False
    _words: list[str] = field(default_factory=list)
    _words_sent: int = 0

    def __post_init__(self) -> None:
        self._words = [w + " " for w in self.text.split()]
        if self._words:
            self._words[-1] = self._words[-1].rstrip()

    @property
    def chunk_count(self) -> int:
        return -(-len(self.samples) // self.chunk_samples)

    @property
    def duration_s(self) -> float:
        return len(self.samples) / OUTPUT_RATE_HZ

    @property
    def end_s(self) -> float:
        """When playback of the last sample ends: the time of `turnComplete`."""
        return self.start_s + self.duration_s

    def due_s(self, index: int) -> float:
        """When chunk `index` goes out: its playback time minus the lead, never before the start."""
        offset = index * self.chunk_samples / OUTPUT_RATE_HZ
        return max(self.start_s, self.start_s + offset - self.lead_s)

    def next_due_s(self) -> float:
        if self.next_chunk < self.chunk_count:
            return self.due_s(self.next_chunk)
        return self.end_s

    def take_due(self, now_s: float) -> list[dict[str, object]]:
        """Messages due by `now_s`: audio chunks with transcript words spread across them, then
        `generationComplete` after the last chunk. `turnComplete` is the caller's job at end_s."""
        messages: list[dict[str, object]] = []
        count = self.chunk_count
        while self.next_chunk < count and self.due_s(self.next_chunk) <= now_s:
            index = self.next_chunk
            chunk = self.samples[index * self.chunk_samples : (index + 1) * self.chunk_samples]
            messages.append(audio_message(chunk.astype("<i2").tobytes()))
            words_due = len(self._words) * (index + 1) // count
            if words_due > self._words_sent:
                text = "".join(self._words[self._words_sent : words_due])
                messages.append({"serverContent": {"outputTranscription": {"text": text}}})
                self._words_sent = words_due
            self.next_chunk += 1
            self.started = True
        if self.next_chunk >= count and not self.generation_complete_sent and now_s >= self.start_s:
            if self._words_sent < len(self._words):  # an empty reply still says its words
                text = "".join(self._words[self._words_sent :])
                messages.append({"serverContent": {"outputTranscription": {"text": text}}})
                self._words_sent = len(self._words)
            messages.append({"serverContent": {"generationComplete": True}})
            self.generation_complete_sent = True
            self.started = True
        return messages

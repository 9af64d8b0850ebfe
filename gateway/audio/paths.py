"""Per-call audio paths between a carrier's media format and Gemini Live's PCM.

* `UplinkPath`: carrier payload (μ-law, A-law or L16 at 8/16/24 kHz) -> 16 kHz PCM16 bytes for
  `realtimeInput.audio`. It adds no buffering: every carrier frame gives its samples at once.
* `DownlinkPath`: Live's 24 kHz PCM16 bytes -> carrier payload cut into exact frames (20 ms by
  default: 160 μ-law bytes at 8 kHz), remainder carried to the next chunk.

Each call and direction gets its own path object; they keep the resampler's filter state and the
framer's remainder between chunks. Neither does I/O or reads a clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from gateway.audio import g711
from gateway.audio.filters import Phase
from gateway.audio.framer import Framer
from gateway.audio.resample import Resampler

LIVE_INPUT_RATE_HZ = 16_000
LIVE_OUTPUT_RATE_HZ = 24_000


class Encoding(StrEnum):
    """How a carrier carries samples on the wire."""

    MULAW = "mulaw"
    ALAW = "alaw"
    L16 = "l16"  # signed 16-bit little-endian linear PCM


@dataclass(frozen=True)
class CarrierFormat:
    """A carrier leg's media format: encoding, sample rate and outbound frame duration."""

    encoding: Encoding = Encoding.MULAW
    rate_hz: int = 8_000
    frame_ms: int = 20
    playback_rate_hz: int = 0
    """The rate of the audio sent to the carrier when it differs from the caller's (`rate_hz`):
    the web softphone takes Live's 24 kHz as it comes while sending 16 kHz. 0: `rate_hz`."""

    @property
    def playback(self) -> CarrierFormat:
        """The format of the audio sent to the carrier (the downlink's)."""
        if self.playback_rate_hz in (0, self.rate_hz):
            return self
        return CarrierFormat(self.encoding, self.playback_rate_hz, self.frame_ms)

    @property
    def bytes_per_sample(self) -> int:
        return 2 if self.encoding is Encoding.L16 else 1

    @property
    def frame_samples(self) -> int:
        return self.rate_hz * self.frame_ms // 1000

    @property
    def frame_bytes(self) -> int:
        return self.frame_samples * self.bytes_per_sample

    @property
    def silence_byte(self) -> int:
        return {
            Encoding.MULAW: g711.ULAW_SILENCE,
            Encoding.ALAW: g711.ALAW_SILENCE,
            Encoding.L16: 0,
        }[self.encoding]


_DECODERS: dict[Encoding, Callable[[bytes], bytes]] = {
    Encoding.MULAW: g711.ulaw_decode,
    Encoding.ALAW: g711.alaw_decode,
}
_ENCODERS: dict[Encoding, Callable[[npt.NDArray[np.float64]], bytes]] = {
    Encoding.MULAW: g711.ulaw_from_exact,
    Encoding.ALAW: g711.alaw_from_exact,
    Encoding.L16: g711.pcm16_from_exact,
}


class UplinkPath:
    """Carrier payloads in, 16 kHz PCM16 little-endian bytes out."""

    def __init__(
        self,
        carrier: CarrierFormat,
        *,
        out_rate_hz: int = LIVE_INPUT_RATE_HZ,
        phase: Phase = "minimum",
    ) -> None:
        self.carrier = carrier
        self.out_rate_hz = out_rate_hz
        # An L16 payload may split a sample across two frames: keep whole samples only.
        self._samples = Framer(2, 0)
        self._decode = _DECODERS.get(carrier.encoding, self._samples.push_joined)
        self._resampler = Resampler(carrier.rate_hz, out_rate_hz, phase=phase)

    def process(self, payload: bytes) -> bytes:
        """Decode and resample one carrier payload; returns the PCM available now."""
        samples = g711.pcm16_samples(self._decode(payload))
        return g711.pcm16_from_exact(self._resampler.process_exact(samples))

    def flush(self) -> bytes:
        """End of stream: the resampler's ring-out (a few ms), then a fresh state."""
        self._samples.reset()
        return g711.pcm16_from_exact(self._resampler.flush_exact())

    def reset(self) -> None:
        """Drop all state."""
        self._samples.reset()
        self._resampler.reset()

    @property
    def input_samples(self) -> int:
        return self._resampler.input_samples

    @property
    def output_samples(self) -> int:
        return self._resampler.output_samples


class DownlinkPath:
    """Live's 24 kHz PCM16 in, whole carrier frames out."""

    def __init__(
        self,
        carrier: CarrierFormat,
        *,
        in_rate_hz: int = LIVE_OUTPUT_RATE_HZ,
        phase: Phase = "minimum",
    ) -> None:
        self.carrier = carrier
        self.in_rate_hz = in_rate_hz
        self._encode = _ENCODERS[carrier.encoding]
        self._resampler = Resampler(in_rate_hz, carrier.rate_hz, phase=phase)
        self._framer = Framer(carrier.frame_bytes, carrier.silence_byte)
        self._samples = Framer(2, 0)  # a chunk may end in the middle of a sample

    def process(self, pcm: bytes) -> list[bytes]:
        """Resample, encode and frame one chunk of model audio; returns the complete frames."""
        pcm = self._samples.push_joined(pcm)
        exact = self._resampler.process_exact(g711.pcm16_samples(pcm))
        return self._framer.push(self._encode(exact)) if exact.size else []

    def flush(self) -> list[bytes]:
        """End of a model turn: ring-out plus the last partial frame padded with silence."""
        self._samples.reset()
        frames = self._framer.push(self._encode(self._resampler.flush_exact()))
        return frames + self._framer.flush()

    def reset(self) -> None:
        """Barge-in: drop the held remainder and the filter state."""
        self._samples.reset()
        self._resampler.reset()
        self._framer.reset()

    @property
    def pending_bytes(self) -> int:
        """Encoded bytes held for the next frame."""
        return self._framer.pending_bytes

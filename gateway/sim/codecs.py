"""A stream's audio encoding as the simulated carrier sees it: 8 kHz script samples <-> payloads.

The simulator's script and playback model work in 8 kHz int16 (`CALL_RATE_HZ`). A carrier stream
may carry G.711 μ-law or A-law at 8 kHz, or linear 16-bit PCM (L16) at 8, 16 or 24 kHz, little-
or big-endian. `StreamCodec` encodes outgoing caller frames (resampling 8 kHz up to the stream's
rate) and decodes the gateway's payloads back to 8 kHz; one per stream and direction state, since
the resamplers keep their filter state between frames.
"""

from __future__ import annotations

import base64
import binascii

import numpy as np
import numpy.typing as npt

from gateway.audio import g711
from gateway.audio.paths import Encoding
from gateway.audio.resample import Resampler
from gateway.sim.dialect import GatewayMedia, ProtocolViolation
from gateway.sim.script import CALL_RATE_HZ

__all__ = ["FILE_HEADERS", "RATES_HZ", "StreamCodec", "media_payload"]

FILE_HEADERS: dict[bytes, str] = {
    b"RIFF": "a WAV (RIFF) header",
    b"RIFX": "a WAV (RIFX) header",
    b"ID3": "an MP3 (ID3) header",
    b"OggS": "an Ogg header",
    b"fLaC": "a FLAC header",
    b".snd": "a Sun/NeXT .au header",
    b"FORM": "an AIFF header",
    b"#!AMR": "an AMR header",
}
"""Magic numbers of audio containers a gateway might wrongly send as a payload.

Raw μ-law has no structure, so only container headers are detectable: MP3 frame syncs (0xFF 0xFB…)
are not checked, because 0xFF is μ-law silence and that pair is ordinary audio.
"""

RATES_HZ = (8_000, 16_000, 24_000)


class StreamCodec:
    """Encode caller audio for the stream, decode the gateway's audio for the playback model."""

    def __init__(self, encoding: Encoding, rate_hz: int = 8_000, *, big_endian: bool = False):
        if rate_hz not in RATES_HZ or (encoding is not Encoding.L16 and rate_hz != CALL_RATE_HZ):
            raise ValueError(f"no {encoding.value} stream at {rate_hz} Hz")
        self.encoding = encoding
        self.rate_hz = rate_hz
        self.big_endian = big_endian
        self._up = Resampler(CALL_RATE_HZ, rate_hz) if rate_hz != CALL_RATE_HZ else None
        self._down = Resampler(rate_hz, CALL_RATE_HZ) if rate_hz != CALL_RATE_HZ else None

    @property
    def bytes_per_sample(self) -> int:
        return 2 if self.encoding is Encoding.L16 else 1

    def encode(self, samples: npt.NDArray[np.int16]) -> bytes:
        """8 kHz int16 samples -> one payload in the stream's encoding and rate."""
        if self._up is not None:
            samples = g711.int16_from_exact(self._up.process_exact(samples))
        if self.encoding is Encoding.L16:
            return samples.astype(">i2" if self.big_endian else "<i2", copy=False).tobytes()
        pcm = samples.astype("<i2", copy=False).tobytes()
        if self.encoding is Encoding.MULAW:
            return g711.ulaw_encode(pcm)
        return g711.alaw_encode(pcm)

    def decode(self, payload: bytes) -> npt.NDArray[np.int16] | None:
        """One payload -> 8 kHz int16 samples (None: an L16 payload of an odd byte count)."""
        if self.encoding is Encoding.MULAW:
            return g711.pcm16_samples(g711.ulaw_decode(payload)).astype(np.int16)
        if self.encoding is Encoding.ALAW:
            return g711.pcm16_samples(g711.alaw_decode(payload)).astype(np.int16)
        if len(payload) % 2:
            return None
        samples = np.frombuffer(payload, dtype=">i2" if self.big_endian else "<i2")
        samples = samples.astype(np.int16)
        if self._down is not None:
            samples = g711.int16_from_exact(self._down.process_exact(samples))
        return samples


def media_payload(
    payload: object, codec: StreamCodec, code: int
) -> GatewayMedia | ProtocolViolation:
    """A gateway's base64 media payload checked as a carrier would (raw audio, no container
    header) and decoded; a `ProtocolViolation` with the carrier's error `code` otherwise."""
    if not isinstance(payload, str):
        return ProtocolViolation(code, "media without a payload string")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return ProtocolViolation(code, "media payload is not valid base64")
    for magic, what in FILE_HEADERS.items():
        if raw.startswith(magic):
            return ProtocolViolation(code, f"media payload starts with {what}; send raw audio")
    samples = codec.decode(raw)
    if samples is None:
        return ProtocolViolation(code, "an odd number of L16 bytes")
    return GatewayMedia(samples)

"""StreamCodec: 8 kHz script audio <-> a stream's payloads; media_payload's carrier checks."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from gateway.audio import g711
from gateway.audio.paths import Encoding
from gateway.sim.codecs import StreamCodec, media_payload
from gateway.sim.dialect import GatewayMedia, ProtocolViolation

TONE = (8000 * np.sin(2 * np.pi * 440 * np.arange(1600) / 8000)).astype(np.int16)


def test_g711_payloads_are_the_codec_tables() -> None:
    frame = TONE[:160]
    ulaw = StreamCodec(Encoding.MULAW).encode(frame)
    assert ulaw == g711.ulaw_encode(frame.astype("<i2").tobytes())
    alaw = StreamCodec(Encoding.ALAW).encode(frame)
    assert alaw == g711.alaw_encode(frame.astype("<i2").tobytes())
    decoded = StreamCodec(Encoding.ALAW).decode(alaw)
    assert decoded is not None
    assert np.max(np.abs(decoded.astype(int) - frame)) < 300


def test_l16_at_8k_is_the_samples_themselves_in_either_byte_order() -> None:
    frame = TONE[:160]
    assert StreamCodec(Encoding.L16).encode(frame) == frame.astype("<i2").tobytes()
    big = StreamCodec(Encoding.L16, big_endian=True)
    assert big.encode(frame) == frame.astype(">i2").tobytes()
    decoded = big.decode(frame.astype(">i2").tobytes())
    assert decoded is not None
    assert np.array_equal(decoded, frame)


@pytest.mark.parametrize("rate_hz", [16_000, 24_000])
def test_l16_at_higher_rates_is_resampled_both_ways(rate_hz: int) -> None:
    codec = StreamCodec(Encoding.L16, rate_hz)
    payloads = [codec.encode(TONE[i : i + 160]) for i in range(0, len(TONE), 160)]
    assert {len(p) for p in payloads} == {2 * rate_hz // 50}
    back = StreamCodec(Encoding.L16, rate_hz)
    decoded = np.concatenate([d for p in payloads if (d := back.decode(p)) is not None])
    assert len(decoded) == len(TONE)
    # Two minimum-phase resamplers delay by about 2 ms; past the start the tone is intact.
    level = np.sqrt(np.mean(decoded[400:].astype(float) ** 2))
    assert abs(level - 8000 / np.sqrt(2)) < 100


def test_impossible_formats_are_refused() -> None:
    with pytest.raises(ValueError, match="16000"):
        StreamCodec(Encoding.MULAW, 16_000)
    with pytest.raises(ValueError, match="44100"):
        StreamCodec(Encoding.L16, 44_100)


def test_media_payload_checks() -> None:
    codec = StreamCodec(Encoding.L16)
    ok = media_payload(base64.b64encode(b"\x01\x00\x02\x00").decode(), codec, 7)
    assert isinstance(ok, GatewayMedia)
    assert ok.samples.tolist() == [1, 2]
    assert media_payload(None, codec, 7) == ProtocolViolation(7, "media without a payload string")
    assert media_payload("!!", codec, 7) == ProtocolViolation(
        7, "media payload is not valid base64"
    )
    wav = base64.b64encode(b"RIFF\x00\x00").decode()
    bad = media_payload(wav, codec, 7)
    assert isinstance(bad, ProtocolViolation)
    assert "WAV" in bad.reason
    odd = base64.b64encode(b"\x01\x02\x03").decode()
    assert media_payload(odd, codec, 7) == ProtocolViolation(7, "an odd number of L16 bytes")

"""Uplink and downlink paths: formats, frame sizes, carried remainders, barge-in reset, SNR."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from gateway.audio import g711
from gateway.audio.measure import fit_tone, tone
from gateway.audio.paths import CarrierFormat, DownlinkPath, Encoding, UplinkPath
from gateway.audio.resample import Resampler

TWILIO = CarrierFormat()


def test_carrier_format_frame_geometry() -> None:
    assert (TWILIO.frame_samples, TWILIO.frame_bytes, TWILIO.silence_byte) == (160, 160, 0xFF)
    l16 = CarrierFormat(Encoding.L16, 16000)
    assert (l16.frame_samples, l16.frame_bytes, l16.silence_byte) == (320, 640, 0)
    exotel = CarrierFormat(Encoding.L16, 8000, frame_ms=100)
    assert exotel.frame_bytes == 1600
    assert CarrierFormat(Encoding.ALAW).silence_byte == 0xD5


def test_uplink_twilio_frame_becomes_640_bytes_of_16k_pcm() -> None:
    path = UplinkPath(TWILIO)
    x8 = tone(1000, 8000, 0.02)
    payload = g711.ulaw_encode(x8.astype("<i2").tobytes())
    out = path.process(payload)
    assert len(out) == 640
    assert path.input_samples == 160
    assert path.output_samples == 320


def test_uplink_equals_decode_then_resample() -> None:
    x8 = tone(700, 8000, 0.5, level_dbfs=-3)
    payload = g711.ulaw_encode(x8.astype("<i2").tobytes())
    path = UplinkPath(TWILIO)
    out = b"".join(path.process(payload[i : i + 160]) for i in range(0, len(payload), 160))
    decoded = g711.pcm16_samples(g711.ulaw_decode(payload)).astype(np.int16)
    expected = Resampler(8000, 16000).process(decoded)
    assert out == expected.astype("<i2").tobytes()


def test_uplink_l16_carries_a_split_sample() -> None:
    path = UplinkPath(CarrierFormat(Encoding.L16, 16000))  # same rate: identity
    pcm = np.arange(-50, 50, dtype="<i2").tobytes()
    out = path.process(pcm[:51]) + path.process(pcm[51:])
    assert out == pcm


def test_downlink_frames_are_exactly_20_ms_and_carry_the_remainder() -> None:
    path = DownlinkPath(TWILIO)
    x24 = tone(440, 24000, 0.5).astype("<i2").tobytes()
    frames: list[bytes] = []
    for size in [1913 * 2, 7 * 2, 4001 * 2, 3 * 2 + 1, 6001 * 2 - 1]:  # odd byte counts too
        frames += path.process(x24[:size])
        x24 = x24[size:]
    assert {len(f) for f in frames} == {160}
    total_samples_in = (1913 + 7 + 4001 + 3 + 6001 - 1) + 0  # whole samples after the carried byte
    assert len(frames) * 160 + path.pending_bytes == -(-total_samples_in // 3)


def test_downlink_flush_pads_last_frame_with_ulaw_silence() -> None:
    path = DownlinkPath(TWILIO)
    frames = path.process(np.zeros(300, "<i2").tobytes())  # 100 μ-law samples: no frame yet
    assert frames == []
    tail = path.flush()
    assert all(len(f) == 160 for f in tail)
    assert tail[-1].endswith(b"\xff" * 10)
    assert path.pending_bytes == 0


def test_downlink_reset_drops_everything_held() -> None:
    path = DownlinkPath(TWILIO)
    path.process(tone(440, 24000, 0.01).astype("<i2").tobytes())  # 80 μ-law bytes held
    assert path.pending_bytes == 80
    path.reset()
    assert path.pending_bytes == 0
    assert path.flush() == []


def test_downlink_to_l16_16k_carrier() -> None:
    path = DownlinkPath(CarrierFormat(Encoding.L16, 16000))
    frames = path.process(tone(440, 24000, 0.04).astype("<i2").tobytes())
    assert {len(f) for f in frames} == {640}


@pytest.mark.parametrize("encoding", [Encoding.MULAW, Encoding.ALAW])
def test_speech_band_snr_through_the_downlink_is_within_03_db_of_the_codec_floor(
    encoding: Encoding,
) -> None:
    """Band-limited multitone at 24 kHz through the path vs the ideal 8 kHz signal coded alone."""
    rng = np.random.default_rng(5)
    freqs = rng.uniform(300, 3400, 40)
    phases = rng.uniform(0, 2 * np.pi, 40)
    amps = rng.uniform(0.2, 1.0, 40)
    amps *= 0.3 * 32767 / amps.sum()
    path = DownlinkPath(CarrierFormat(encoding))
    design = Resampler(24000, 8000).design
    assert design is not None
    # The ideal output: every tone through the filter's exact complex response.
    _, response = signal.freqz(design.taps, worN=freqs, fs=24000)
    t24 = np.arange(24000) / 24000
    t8 = np.arange(8000) / 8000
    x24 = sum(
        a * np.sin(2 * np.pi * f * t24 + p) for a, f, p in zip(amps, freqs, phases, strict=True)
    )
    ideal = sum(
        a * abs(h) * np.sin(2 * np.pi * f * t8 + p + np.angle(h))
        for a, f, p, h in zip(amps, freqs, phases, response, strict=True)
    )
    frames = path.process(np.rint(x24).astype("<i2").tobytes())
    decode = g711.ulaw_decode if encoding is Encoding.MULAW else g711.alaw_decode
    encode = g711.ulaw_encode if encoding is Encoding.MULAW else g711.alaw_encode
    through = g711.pcm16_samples(decode(b"".join(frames))).astype(float)
    floor = g711.pcm16_samples(decode(encode(np.rint(ideal).astype("<i2").tobytes()))).astype(float)
    steady = slice(400, len(through) - 100)

    def snr(y: np.ndarray) -> float:
        err = y[steady] - ideal[: len(y)][steady]
        return float(10 * np.log10(np.sum(ideal[steady] ** 2) / np.sum(err**2)))

    assert snr(through) >= snr(floor) - 0.3
    assert snr(floor) > 30  # sanity: μ-law/A-law's own floor for this level


def test_downlink_output_keeps_tone_level() -> None:
    path = DownlinkPath(CarrierFormat(Encoding.L16, 8000))
    x = tone(1000, 24000, 0.5, level_dbfs=-6)
    y = g711.pcm16_samples(b"".join(path.process(x.astype("<i2").tobytes())))
    amplitude, _, _ = fit_tone(y, 1000, 8000)
    assert 20 * np.log10(amplitude / 32767) == pytest.approx(-6, abs=0.05)

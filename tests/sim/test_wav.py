"""WAV reading (PCM, float, G.711, extensible) and writing (PCM16, μ-law format 7)."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from gateway.audio import g711
from gateway.sim.wav import (
    FORMAT_ALAW,
    FORMAT_EXTENSIBLE,
    FORMAT_FLOAT,
    FORMAT_MULAW,
    FORMAT_PCM,
    WavError,
    decode_wav,
    encode_wav,
    read_wav,
    write_mulaw_wav,
    write_pcm16_wav,
)

SAMPLES = np.array([0, 1, -1, 1000, -1000, 32767, -32768, 12345], dtype=np.int16)


def test_pcm16_round_trip_and_the_standard_library_agrees(tmp_path: Path) -> None:
    path = tmp_path / "mono.wav"
    write_pcm16_wav(path, SAMPLES, 16_000)
    wav = read_wav(path)
    assert (wav.rate_hz, wav.channels, wav.format_tag) == (16_000, 1, FORMAT_PCM)
    assert np.array_equal(wav.samples, SAMPLES)
    with wave.open(str(path)) as reader:
        assert reader.getframerate() == 16_000
        assert reader.getsampwidth() == 2
        raw = reader.readframes(reader.getnframes())
    assert np.array_equal(np.frombuffer(raw, "<i2"), SAMPLES)


def test_stereo_is_mixed_down(tmp_path: Path) -> None:
    path = tmp_path / "stereo.wav"
    stereo = np.array([[100, 300], [-100, -301], [32767, 32767]], dtype=np.int16)
    write_pcm16_wav(path, stereo, 8000)
    wav = read_wav(path)
    assert wav.channels == 2
    assert wav.samples.tolist() == [200, -201, 32767]


def test_mulaw_format_7_with_a_fact_chunk(tmp_path: Path) -> None:
    path = tmp_path / "ulaw.wav"
    write_mulaw_wav(path, SAMPLES, 8000)
    data = path.read_bytes()
    tag, channels, rate, byte_rate, align, bits, cb_size = struct.unpack_from("<HHIIHHH", data, 20)
    assert (tag, channels, rate, byte_rate, align, bits, cb_size) == (7, 1, 8000, 8000, 1, 8, 0)
    assert data[38:42] == b"fact"
    assert struct.unpack_from("<I", data, 46)[0] == len(SAMPLES)
    wav = read_wav(path)
    expected = g711.pcm16_samples(g711.ulaw_decode(g711.ulaw_encode(SAMPLES.tobytes())))
    assert wav.format_tag == FORMAT_MULAW
    assert np.array_equal(wav.samples, expected)


def wav_bytes(payload: bytes, tag: int, bits: int, channels: int = 1, rate: int = 8000) -> bytes:
    return encode_wav(payload, rate_hz=rate, channels=channels, format_tag=tag, bits=bits)


def test_alaw_float_8_24_and_32_bit() -> None:
    alaw = g711.alaw_encode(SAMPLES.tobytes())
    expected = g711.pcm16_samples(g711.alaw_decode(alaw))
    assert np.array_equal(decode_wav(wav_bytes(alaw, FORMAT_ALAW, 8)).samples, expected)

    floats = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0], dtype="<f4")
    decoded = decode_wav(wav_bytes(floats.tobytes(), FORMAT_FLOAT, 32)).samples
    assert decoded.tolist() == [0, 16384, -16384, 32767, -32768, 32767]
    doubles = floats.astype("<f8").tobytes()
    assert decode_wav(wav_bytes(doubles, FORMAT_FLOAT, 64)).samples.tolist() == decoded.tolist()

    unsigned = bytes([128, 255, 0])
    assert decode_wav(wav_bytes(unsigned, FORMAT_PCM, 8)).samples.tolist() == [0, 32512, -32768]

    values = [0, 256, -256, 8388607, -8388608]
    packed = b"".join(v.to_bytes(3, "little", signed=True) for v in values)
    assert decode_wav(wav_bytes(packed, FORMAT_PCM, 24)).samples.tolist() == [
        0,
        1,
        -1,
        32767,
        -32768,
    ]
    ints = np.array([0, 65536, -65536, 2**31 - 1], dtype="<i4").tobytes()
    assert decode_wav(wav_bytes(ints, FORMAT_PCM, 32)).samples.tolist() == [0, 1, -1, 32767]


def extensible(payload: bytes, sub_tag: int, bits: int) -> bytes:
    guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    fmt = struct.pack("<HHIIHHH", FORMAT_EXTENSIBLE, 1, 8000, 8000 * bits // 8, bits // 8, bits, 22)
    fmt += struct.pack("<HI", bits, 4) + struct.pack("<H", sub_tag) + guid_tail
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_wave_format_extensible_uses_its_sub_format() -> None:
    assert np.array_equal(
        decode_wav(extensible(SAMPLES.tobytes(), FORMAT_PCM, 16)).samples, SAMPLES
    )
    ulaw = g711.ulaw_encode(SAMPLES.tobytes())
    decoded = decode_wav(extensible(ulaw, FORMAT_MULAW, 8)).samples
    assert np.array_equal(decoded, g711.pcm16_samples(g711.ulaw_decode(ulaw)))


def test_other_chunks_odd_sizes_and_a_truncated_data_chunk() -> None:
    pcm: npt.NDArray[np.int16] = SAMPLES
    fmt = struct.pack("<HHIIHH", FORMAT_PCM, 1, 8000, 16000, 2, 16)
    body = b"WAVE" + b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # odd size: padded
    body += b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", 1000) + pcm.tobytes() + b"\x01"  # claims more, odd
    data = b"RIFF" + struct.pack("<I", len(body)) + body
    assert np.array_equal(decode_wav(data).samples, SAMPLES)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "RIFF"),
        (b"RIFX\x00\x00\x00\x00WAVE", "RIFF"),
        (b"RIFF\x04\x00\x00\x00WAVE", "fmt or data"),
        (wav_bytes(b"\x00" * 4, 2, 8), "unsupported"),  # MS ADPCM
        (wav_bytes(b"\x00" * 4, FORMAT_MULAW, 16), "unsupported"),
        (wav_bytes(b"\x00" * 4, FORMAT_PCM, 16, channels=0), "channels"),
    ],
)
def test_refusals(data: bytes, match: str) -> None:
    with pytest.raises(WavError, match=match):
        decode_wav(data)

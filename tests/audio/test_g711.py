"""G.711 pinned against protocols.md section D and against classic reference implementations."""

from __future__ import annotations

import base64
import hashlib

import numpy as np
import pytest

from gateway.audio import g711

EVERY_SAMPLE = np.arange(-32768, 32768, dtype="<i2")


def classic_ulaw(x: int) -> int:
    """The classic "Sun g711.c" μ-law encoder, written from protocols.md D.1."""
    sign = 0x80 if x < 0 else 0
    x = min(abs(x), 32635) + 0x84
    exponent = max(0, x.bit_length() - 8)
    mantissa = (x >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def classic_alaw(x: int) -> int:
    """The classic Sun g711.c A-law encoder (13-bit input)."""
    x >>= 3
    mask = 0xD5 if x >= 0 else 0x55
    if x < 0:
        x = -x - 1
    seg = 0
    for end in (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF):
        if x <= end:
            break
        seg += 1
    if seg >= 8:
        return 0x7F ^ mask
    value = (seg << 4) | ((x >> 1) & 0x0F if seg < 2 else (x >> seg) & 0x0F)
    return value ^ mask


def classic_alaw_decode(code: int) -> int:
    code ^= 0x55
    t = (code & 0x0F) << 4
    seg = (code & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if code & 0x80 else -t


def _decode_one(code: int) -> int:
    return int(np.frombuffer(g711.ulaw_decode(bytes([code])), "<i2")[0])


def _encode_one(sample: int) -> int:
    return g711.ulaw_encode(np.array([sample], "<i2").tobytes())[0]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (0x00, -32124), (0x01, -31100), (0x0F, -16764), (0x10, -15996), (0x7E, -8),
        (0x7F, 0), (0x80, 32124), (0x8F, 16764), (0xF0, 120), (0xFE, 8), (0xFF, 0),
        (0xD5, 716), (0x55, -716),
    ],
)  # fmt: skip
def test_ulaw_decode_vectors(code: int, expected: int) -> None:
    assert _decode_one(code) == expected


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (0, 0xFF), (1, 0xFF), (2, 0xFF), (8, 0xFE), (16, 0xFD), (31, 0xFB), (100, 0xF2),
        (1000, 0xCE), (8031, 0xA0), (8159, 0x9F), (16000, 0x90), (32000, 0x80),
        (32124, 0x80), (32635, 0x80), (32767, 0x80), (-100, 0x72), (-1000, 0x4E),
        (-8031, 0x20), (-32124, 0x00), (-32768, 0x00),
    ],
)  # fmt: skip
def test_ulaw_encode_vectors(sample: int, expected: int) -> None:
    assert _encode_one(sample) == expected
    assert classic_ulaw(sample) == expected


def test_ulaw_encode_minus_one_is_the_c_encoders_code() -> None:
    # D.4: the shipped (audioop) encoder floors -1 to the 14-bit value -1 -> 0x7E; classic: 0x7F.
    assert classic_ulaw(-1) == 0x7F
    assert _encode_one(-1) == 0x7E
    assert _decode_one(0x7E) == -8


def test_ulaw_decode_table_hash() -> None:
    table = g711.ulaw_decode(bytes(range(256)))
    digest = hashlib.sha256(table).hexdigest()
    assert digest == "3dab54339e520bb2c924826e3b72a917a2b612e9fd12fc867500f1d983a75827"


def test_classic_reference_matches_protocols_encoder_hash() -> None:
    classic = bytes(classic_ulaw(int(x)) for x in EVERY_SAMPLE)
    digest = hashlib.sha256(classic).hexdigest()
    assert digest == "5ee7cf5f273f842d2234121e4cb0c98d6b20a99ac29026f94e05b36955b195be"


def test_shipped_encoder_differs_from_classic_on_381_negative_inputs_by_one_step() -> None:
    shipped = np.frombuffer(g711.ulaw_encode(EVERY_SAMPLE.tobytes()), np.uint8)
    classic = np.array([classic_ulaw(int(x)) for x in EVERY_SAMPLE], np.uint8)
    differ = np.nonzero(shipped != classic)[0]
    assert len(differ) == 381
    assert (EVERY_SAMPLE[differ] < 0).all()
    decoded = np.frombuffer(g711.ulaw_decode(bytes(range(256))), "<i2").astype(int)
    # One quantisation level apart: the decoded values are neighbours in the level order.
    levels = np.unique(decoded)
    rank = {int(v): i for i, v in enumerate(levels)}
    steps = {
        abs(rank[decoded[a]] - rank[decoded[b]])
        for a, b in zip(shipped[differ], classic[differ], strict=True)
    }
    assert steps == {1}
    digest = hashlib.sha256(shipped.tobytes()).hexdigest()
    assert digest == "81d633c9e6972a18c74a58720b96cb8ca0bdd096d4060b646dd708c3b846019a"


def test_round_trip_of_every_code_except_negative_zero() -> None:
    codes = bytes(range(256))
    again = g711.ulaw_encode(g711.ulaw_decode(codes))
    assert [c for c in range(256) if again[c] != c] == [0x7F]
    assert again[0x7F] == 0xFF


def test_base64_samples_from_protocols() -> None:
    assert base64.b64encode(bytes([0x00, 0x7F, 0x80, 0xFF])) == b"AH+A/w=="
    pcm = np.array([0, 1000, -1000, 32767], "<i2").tobytes()
    assert base64.b64encode(pcm) == b"AADoAxj8/38="


def test_alaw_matches_classic_reference_everywhere() -> None:
    shipped = g711.alaw_encode(EVERY_SAMPLE.tobytes())
    classic = bytes(classic_alaw(int(x)) for x in EVERY_SAMPLE)
    assert shipped == classic
    decoded = np.frombuffer(g711.alaw_decode(bytes(range(256))), "<i2")
    assert [int(v) for v in decoded] == [classic_alaw_decode(c) for c in range(256)]
    assert hashlib.sha256(shipped).hexdigest() == (
        "38488f6fd710f4686360edc4d38639f96c491595ef93f8eb8d62d5e07ca6ce7b"
    )


def test_alaw_silence_and_vectors() -> None:
    assert g711.alaw_encode(b"\x00\x00") == bytes([g711.ALAW_SILENCE])
    assert g711.ulaw_encode(b"\x00\x00") == bytes([g711.ULAW_SILENCE])
    assert list(np.frombuffer(g711.alaw_decode(bytes([0xD5, 0x55, 0xAA, 0x2A])), "<i2")) == [
        8, -8, 32256, -32256
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("exact_fn", "codec_fn"),
    [
        (g711.ulaw_from_exact, g711.ulaw_encode),
        (g711.alaw_from_exact, g711.alaw_encode),
        (g711.pcm16_from_exact, lambda pcm: pcm),
    ],
)
def test_exact_paths_round_saturate_then_encode(exact_fn, codec_fn) -> None:  # type: ignore[no-untyped-def]
    base = EVERY_SAMPLE.astype(np.float64)
    values = np.concatenate(
        [base, base + 0.5, base - 0.5, base + 0.25, [1e6, -1e6, 32767.5, -32768.5, 40000.0]]
    )
    expected_int = np.clip(np.rint(values), -32768, 32767).astype("<i2")
    assert exact_fn(values.copy()) == codec_fn(expected_int.tobytes())


def test_int16_from_exact_rounds_half_to_even_and_saturates() -> None:
    values = np.array([0.5, 1.5, -0.5, -1.5, 2.4999, 32767.4, 32768.0, -32768.6, -1e9])
    assert list(g711.int16_from_exact(values)) == [0, 2, 0, -2, 2, 32767, 32767, -32768, -32768]


def test_pcm16_samples_is_little_endian() -> None:
    assert list(g711.pcm16_samples(b"\x01\x00\xff\xff")) == [1, -1]

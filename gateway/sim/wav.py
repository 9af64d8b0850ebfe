"""WAV files: reading any common PCM/G.711 WAV into int16, writing PCM16 and μ-law WAVs.

The standard `wave` module reads integer PCM only; calls are often recorded as G.711 WAVs
(format 7 μ-law, format 6 A-law), so the RIFF chunks are parsed here. Supported on read: integer
PCM of 8/16/24/32 bits, IEEE float 32/64, A-law, μ-law, and WAVE_FORMAT_EXTENSIBLE around any of
them; several channels are mixed down to mono.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gateway.audio import g711
from gateway.sim.report import CallReport

__all__ = [
    "WavAudio",
    "WavError",
    "decode_wav",
    "encode_wav",
    "read_wav",
    "write_mulaw_wav",
    "write_pcm16_wav",
    "write_wav",
]

FORMAT_PCM = 1
FORMAT_FLOAT = 3
FORMAT_ALAW = 6
FORMAT_MULAW = 7
FORMAT_EXTENSIBLE = 0xFFFE


class WavError(ValueError):
    """Not a WAV file this reader understands."""


@dataclass(frozen=True, eq=False)
class WavAudio:
    samples: npt.NDArray[np.int16]
    """Mono int16 samples (channels mixed down)."""
    rate_hz: int
    format_tag: int
    channels: int


def _chunks(data: bytes) -> dict[bytes, bytes]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    chunks: dict[bytes, bytes] = {}
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, pos)
        body = data[pos + 8 : pos + 8 + size]  # a truncated last chunk keeps what is there
        chunks.setdefault(chunk_id, body)
        pos += 8 + size + (size & 1)
    return chunks


def _to_int16(frames: bytes, tag: int, bits: int) -> npt.NDArray[np.int16]:
    if tag == FORMAT_MULAW and bits == 8:
        return g711.pcm16_samples(g711.ulaw_decode(frames)).astype(np.int16)
    if tag == FORMAT_ALAW and bits == 8:
        return g711.pcm16_samples(g711.alaw_decode(frames)).astype(np.int16)
    if tag == FORMAT_PCM and bits == 8:
        return ((np.frombuffer(frames, np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    if tag == FORMAT_PCM and bits == 16:
        return np.frombuffer(frames, "<i2").astype(np.int16)
    if tag == FORMAT_PCM and bits == 24:
        raw = np.frombuffer(frames, np.uint8).reshape(-1, 3).astype(np.int32)
        value = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)
        return (value >> 8).astype(np.int16)
    if tag == FORMAT_PCM and bits == 32:
        return (np.frombuffer(frames, "<i4") >> 16).astype(np.int16)
    if tag == FORMAT_FLOAT and bits in (32, 64):
        floats = np.frombuffer(frames, "<f4" if bits == 32 else "<f8").astype(np.float64)
        return np.clip(np.rint(floats * 32768.0), -32768, 32767).astype(np.int16)
    raise WavError(f"unsupported WAV encoding: format {tag}, {bits} bits")


def decode_wav(data: bytes) -> WavAudio:
    """Parse a WAV file's bytes."""
    chunks = _chunks(data)
    fmt, frames = chunks.get(b"fmt "), chunks.get(b"data")
    if fmt is None or len(fmt) < 16 or frames is None:
        raise WavError("WAV file without a fmt or data chunk")
    tag, channels, rate_hz, _, block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == FORMAT_EXTENSIBLE:
        if len(fmt) < 40:
            raise WavError("WAVE_FORMAT_EXTENSIBLE without its sub-format")
        tag = struct.unpack_from("<H", fmt, 24)[0]
    if channels < 1 or rate_hz < 1 or block_align < channels:
        raise WavError(f"bad WAV format: {channels} channels, {rate_hz} Hz")
    frames = frames[: len(frames) - len(frames) % block_align]
    mono = _to_int16(frames, tag, bits)
    if channels > 1:
        mixed = mono.reshape(-1, channels).astype(np.int32).sum(axis=1) // channels
        mono = mixed.astype(np.int16)
    return WavAudio(mono, rate_hz, tag, channels)


def read_wav(path: str | Path) -> WavAudio:
    return decode_wav(Path(path).read_bytes())


def encode_wav(payload: bytes, *, rate_hz: int, channels: int, format_tag: int, bits: int) -> bytes:
    """A WAV file around already-encoded frames (non-PCM formats get a `fact` chunk)."""
    block_align = channels * bits // 8
    byte_rate = rate_hz * block_align
    if format_tag == FORMAT_PCM:
        fmt = struct.pack("<HHIIHH", format_tag, channels, rate_hz, byte_rate, block_align, bits)
        extra = b""
    else:
        fmt = struct.pack(
            "<HHIIHHH", format_tag, channels, rate_hz, byte_rate, block_align, bits, 0
        )
        extra = b"fact" + struct.pack("<II", 4, len(payload) // block_align)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra
    body += b"data" + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) & 1)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write_pcm16_wav(path: str | Path, channels: npt.NDArray[np.int16], rate_hz: int) -> None:
    """Write int16 samples: a 1-D array (mono) or (samples, channels) (interleaved)."""
    frames = channels if channels.ndim == 2 else channels.reshape(-1, 1)
    data = np.ascontiguousarray(frames, dtype="<i2").tobytes()
    Path(path).write_bytes(
        encode_wav(data, rate_hz=rate_hz, channels=frames.shape[1], format_tag=FORMAT_PCM, bits=16)
    )


def write_mulaw_wav(path: str | Path, samples: npt.NDArray[np.int16], rate_hz: int) -> None:
    """Write mono int16 samples as a G.711 μ-law WAV (format 7)."""
    codes = g711.ulaw_encode(samples.astype("<i2").tobytes())
    Path(path).write_bytes(
        encode_wav(codes, rate_hz=rate_hz, channels=1, format_tag=FORMAT_MULAW, bits=8)
    )


def write_wav(report: CallReport, path: str | Path) -> None:
    """The call as a stereo 16-bit WAV: left what the caller said, right what they heard."""
    total = max(len(report.said), len(report.heard))
    stereo = np.zeros((total, 2), dtype=np.int16)
    stereo[: len(report.said), 0] = report.said
    stereo[: len(report.heard), 1] = report.heard
    write_pcm16_wav(path, stereo, report.rate_hz)

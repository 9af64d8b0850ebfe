"""G.711 μ-law and A-law, and 16-bit PCM conversion, on the C codec.

The codec is CPython's `audioop` (3.11 and 3.12) or its maintained back-port `audioop-lts` (3.13+).
Behaviour is pinned by tests against the vectors and whole-table hashes of protocols.md section D:

* decoding is the classic G.711 table (all 256 codes identical to the reference);
* encoding is audioop's: it truncates the sample to 14 bits with a floor shift before encoding,
  so 381 negative inputs near segment edges get a code one step from the classic "Sun g711.c"
  encoder (-1, -2, -3 -> 0x7E instead of 0x7F). Carriers accept both; the audible difference is
  nil. This is the encoder the gateway ships.

Byte strings are little-endian 16-bit PCM (the wire format of Gemini Live and of L16 carriers)
whatever the host's byte order.

The `*_from_exact` functions take the float64 output of `Resampler.process_exact` (integers or
dyadic fractions), round to nearest, saturate to int16 and encode, with as few calls as numpy and
audioop allow (each numpy call costs about half a microsecond whatever its size).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

_NATIVE_LE = sys.byteorder == "little"
_PCM16_LE = np.dtype("<i2")

ULAW_SILENCE = 0xFF
"""μ-law code of a zero sample (what carriers send as silence)."""

ALAW_SILENCE = 0xD5
"""A-law code of a zero sample."""


def _to_native(pcm_le: bytes) -> bytes:
    return pcm_le if _NATIVE_LE else audioop.byteswap(pcm_le, 2)


def _to_le(pcm_native: bytes) -> bytes:
    return pcm_native if _NATIVE_LE else audioop.byteswap(pcm_native, 2)


def ulaw_decode(codes: bytes) -> bytes:
    """μ-law bytes -> 16-bit little-endian PCM (two bytes per code)."""
    return _to_le(audioop.ulaw2lin(codes, 2))


def ulaw_encode(pcm: bytes) -> bytes:
    """16-bit little-endian PCM -> μ-law bytes (audioop's encoder; see the module docstring)."""
    return audioop.lin2ulaw(_to_native(pcm), 2)


def alaw_decode(codes: bytes) -> bytes:
    """A-law bytes -> 16-bit little-endian PCM."""
    return _to_le(audioop.alaw2lin(codes, 2))


def alaw_encode(pcm: bytes) -> bytes:
    """16-bit little-endian PCM -> A-law bytes."""
    return audioop.lin2alaw(_to_native(pcm), 2)


def _find_clip() -> Callable[..., Any]:
    """The clip ufunc behind np.clip, without np.clip's Python wrapper (2-3 µs per call).

    numpy 2 keeps it at numpy._core.umath.clip; elsewhere fall back to the public np.clip.
    """
    umath = getattr(getattr(np, "_core", None), "umath", None)
    candidate = getattr(umath, "clip", None)
    return candidate if isinstance(candidate, np.ufunc) else np.clip


_clip = _find_clip()


def int16_from_exact(values: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    """Float samples -> int16, rounded (ties to even) and saturated. Clobbers `values`."""
    np.rint(values, out=values)
    _clip(values, -32768.0, 32767.0, out=values)
    return values.astype(np.int16)


def pcm16_from_exact(values: npt.NDArray[np.float64]) -> bytes:
    """Float samples -> 16-bit little-endian PCM, rounded and saturated. Clobbers `values`."""
    return int16_from_exact(values).astype("<i2", copy=False).tobytes()


def ulaw_from_exact(values: npt.NDArray[np.float64]) -> bytes:
    """Float samples -> μ-law: `ulaw_encode` of the rounded, saturated samples (clobbers)."""
    return audioop.lin2ulaw(int16_from_exact(values).data, 2)


def alaw_from_exact(values: npt.NDArray[np.float64]) -> bytes:
    """Float samples -> A-law: `alaw_encode` of the rounded, saturated samples (clobbers)."""
    return audioop.lin2alaw(int16_from_exact(values).data, 2)


def pcm16_samples(pcm: bytes) -> npt.NDArray[np.int16]:
    """View little-endian PCM bytes (even length) as an int16 array (read-only, no copy)."""
    return np.frombuffer(pcm, dtype=_PCM16_LE)

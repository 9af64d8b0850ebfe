"""Proto3-JSON details shared by the Live parser, encoder and emulator (protocols.md A.3, A.4).

Both key casings, both base64 alphabets, int64 as strings, durations as `"1.5s"`, and MIME rates.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

__all__ = [
    "b64decode_any",
    "b64encode",
    "camel_to_snake",
    "get_field",
    "parse_duration_s",
    "parse_int64",
    "pcm_rate_hz",
    "snake_to_camel",
]

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])([A-Z])")
_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)s\s*$")
_RATE = re.compile(r"(?:^|;)\s*rate\s*=\s*(\d+)\s*(?:;|$)", re.I)


@lru_cache(maxsize=4096)
def camel_to_snake(name: str) -> str:
    """`responseModalities` -> `response_modalities` (snake names pass through)."""
    return _CAMEL_BOUNDARY.sub(r"_\1", name).lower()


@lru_cache(maxsize=4096)
def snake_to_camel(name: str) -> str:
    """`response_modalities` -> `responseModalities` (camel names pass through)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def get_field(obj: Mapping[str, Any], camel: str) -> Any:
    """`obj[camel]`, else `obj[snake_case(camel)]`, else None: proto3 JSON accepts both names."""
    if camel in obj:
        return obj[camel]
    return obj.get(camel_to_snake(camel))


def b64encode(data: bytes) -> str:
    """Standard base64 with padding (the proto3 JSON form of `bytes`)."""
    return base64.b64encode(data).decode("ascii")


def b64decode_any(text: object) -> bytes | None:
    """Decode standard or URL-safe base64, with or without padding; None when it is not base64."""
    if not isinstance(text, str):
        return None
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_duration_s(value: Any) -> float | None:
    """A protobuf Duration (`"50s"`, `"1.5s"`) in seconds; bare numbers are taken as seconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1))
    if isinstance(value, Mapping):  # {"seconds": "1", "nanos": 500000000}
        seconds = parse_int64(value.get("seconds", 0))
        nanos = parse_int64(value.get("nanos", 0))
        if seconds is not None and nanos is not None:
            return seconds + nanos / 1e9
    return None


def parse_int64(value: Any) -> int | None:
    """An int64 sent as a JSON string (proto3) or a number; None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def pcm_rate_hz(mime_type: Any, default_hz: int) -> int | None:
    """The sample rate of an `audio/pcm;rate=N` MIME type; None when it is not raw PCM audio.

    `audio/pcm` and `audio/l16` (any case) count as raw 16-bit PCM; a missing rate means
    `default_hz`.
    """
    if not isinstance(mime_type, str):
        return None
    kind = mime_type.split(";", 1)[0].strip().lower()
    if kind not in {"audio/pcm", "audio/l16"}:
        return None
    match = _RATE.search(mime_type[len(mime_type.split(";", 1)[0]) :])
    if match is None:
        return default_hz
    rate = int(match.group(1))
    return rate if 1000 <= rate <= 192_000 else None

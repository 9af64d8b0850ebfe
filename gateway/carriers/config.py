"""Helpers every carrier's settings share: URL and audio-rate variables, unsigned carriers.

Each carrier declares its variables in its folder (`gateway/carriers/<name>/settings.py`: a
frozen settings class, a `VARIABLES` tuple, a `read_settings` function); these are the checks
several of them make the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.env_reader import EnvReader, SettingsError

__all__ = ["UNSIGNED_VARIABLE", "api_base", "audio_rate", "unsigned_carriers"]

UNSIGNED_VARIABLE = "GATEWAY_UNSIGNED_CARRIERS"


def api_base(reader: EnvReader, name: str, default: str | None) -> str | None:
    """An http(s):// base URL without its trailing slash (`SettingsError` otherwise)."""
    base = reader.text(name) or default
    if base is None:
        return None
    if not base.startswith(("https://", "http://")):
        raise SettingsError(f"{name} must be an http(s):// URL")
    return base.rstrip("/")


def audio_rate(reader: EnvReader, name: str, default: int) -> int:
    """A stream's sample rate: 8000, 16000 or 24000 Hz."""
    rate = reader.integer(name, default)
    if rate not in (8_000, 16_000, 24_000):
        raise SettingsError(f"{name} must be 8000, 16000 or 24000")
    return rate


def unsigned_carriers(reader: EnvReader, known: Iterable[str]) -> frozenset[str]:
    """The carriers GATEWAY_UNSIGNED_CARRIERS names (each one of `known`)."""
    known = tuple(known)
    names = {n.strip().lower() for n in (reader.text(UNSIGNED_VARIABLE) or "").split(",")}
    names.discard("")
    unknown = names - set(known)
    if unknown:
        raise SettingsError(
            f"{UNSIGNED_VARIABLE} names {', '.join(sorted(unknown))}; known: {', '.join(known)}"
        )
    return frozenset(names)

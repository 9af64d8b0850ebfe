"""Helpers every carrier's settings share: URL and audio-rate checks, unsigned carriers.

Each carrier declares its variables once, as options (`gateway.options.option.Option`), in its
folder (`gateway/carriers/<name>/settings.py`: the options, a frozen settings class and a
`read_settings` function that reads them through `EnvReader.get_*`); these are the checks
several of them declare the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gateway.env_reader import EnvReader, SettingsError
from gateway.options.core import UNSIGNED_CARRIERS
from gateway.options.option import Option

__all__ = ["AUDIO_RATES_HZ", "api_base", "audio_rate", "http_url", "unsigned_carriers"]

AUDIO_RATES_HZ = (8_000, 16_000, 24_000)


def http_url(value: Any) -> str | None:
    """An option's check: an http(s):// URL."""
    return None if str(value).startswith(("https://", "http://")) else "must be an http(s):// URL"


def audio_rate(value: Any) -> str | None:
    """An option's check: a stream's sample rate, 8000, 16000 or 24000 Hz."""
    return None if value in AUDIO_RATES_HZ else "must be 8000, 16000 or 24000"


def api_base(reader: EnvReader, option: Option) -> str | None:
    """The option's http(s):// base URL (checked by `http_url`) without its trailing slash."""
    base = reader.get_text(option)
    return None if base is None else base.rstrip("/")


def unsigned_carriers(reader: EnvReader, known: Iterable[str]) -> frozenset[str]:
    """The carriers GATEWAY_UNSIGNED_CARRIERS names (each one of `known`)."""
    known = tuple(known)
    names = {name.lower() for name in reader.get_strings(UNSIGNED_CARRIERS)}
    unknown = names - set(known)
    if unknown:
        raise SettingsError(
            f"{UNSIGNED_CARRIERS.env} names {', '.join(sorted(unknown))}; known: {', '.join(known)}"
        )
    return frozenset(names)

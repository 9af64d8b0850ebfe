"""The dial-out settings, read once from their declared options (gateway.options.dial)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.env_reader import EnvReader
from gateway.log import register_secret
from gateway.options import core
from gateway.options import dial as opt

__all__ = ["DialSettings", "read_dial_settings"]


@dataclass(frozen=True)
class DialSettings:
    api_key: str | None = None
    """GATEWAY_API_KEY: the API's bearer key; None: `/calls` is off (404)."""
    allowed_prefixes: tuple[str, ...] = ()
    """GATEWAY_DIAL_ALLOWED_PREFIXES: empty refuses every dial-out."""
    default_carrier: str | None = None

    def __repr__(self) -> str:  # never print the key
        key = "***" if self.api_key else None
        return f"DialSettings(api_key={key!r}, allowed_prefixes={self.allowed_prefixes!r})"


def read_dial_settings(reader: EnvReader) -> DialSettings:
    api_key = reader.get_text(core.API_KEY)
    register_secret(api_key)
    return DialSettings(
        api_key=api_key,
        allowed_prefixes=reader.get_strings(opt.DIAL_ALLOWED_PREFIXES),
        default_carrier=reader.get_text(opt.DIAL_DEFAULT_CARRIER),
    )

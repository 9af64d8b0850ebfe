"""Plivo's settings: its environment variables, declared and read (docs/carriers/plivo.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gateway.carriers.config import api_base, http_url
from gateway.env_reader import EnvReader, SettingsError
from gateway.log import register_secret
from gateway.options.option import Option

__all__ = ["OPTIONS", "PLIVO_CONTENT_TYPES", "PlivoSettings", "read_settings"]

PLIVO_CONTENT_TYPES = ("audio/x-mulaw;rate=8000", "audio/x-l16;rate=8000", "audio/x-l16;rate=16000")

SECTION: Final = "Plivo"
AUTH_ID = Option(
    "PLIVO_AUTH_ID", "text", "the token checks `X-Plivo-Signature-V3`; both authenticate REST "
    "requests", SECTION, default_doc="none",
)  # fmt: skip
AUTH_TOKEN = Option("PLIVO_AUTH_TOKEN", "secret", "Plivo's auth token", SECTION, own_row=False)
API_BASE = Option(
    "PLIVO_API_BASE", "text", "REST API base", SECTION, default="https://api.plivo.com",
    check=http_url,
)  # fmt: skip
CONTENT_TYPE = Option(
    "PLIVO_CONTENT_TYPE", "text", "the stream's audio, both directions: μ-law, or "
    "`audio/x-l16;rate=8000`, `audio/x-l16;rate=16000` (linear PCM, no μ-law step)", SECTION,
    default=PLIVO_CONTENT_TYPES[0],
)  # fmt: skip
OPTIONS: Final = (AUTH_ID, AUTH_TOKEN, API_BASE, CONTENT_TYPE)


@dataclass(frozen=True)
class PlivoSettings:
    """The Plivo account (docs/carriers/plivo.md)."""

    auth_id: str | None = None
    auth_token: str | None = None
    """PLIVO_AUTH_TOKEN: checks X-Plivo-Signature-V3; REST requests (Basic auth_id:token)."""
    api_base: str = "https://api.plivo.com"
    content_type: str = "audio/x-mulaw;rate=8000"
    """PLIVO_CONTENT_TYPE: the stream's audio, both directions."""
    allow_unsigned: bool = False

    def __repr__(self) -> str:
        token = "***" if self.auth_token else None
        return f"PlivoSettings(auth_id={self.auth_id!r}, auth_token={token!r})"


def read_settings(reader: EnvReader, allow_unsigned: bool = False) -> PlivoSettings:
    token = reader.get_text(AUTH_TOKEN)
    register_secret(token)
    content_type = str(reader.get_text(CONTENT_TYPE)).replace(" ", "")
    if content_type.lower() not in PLIVO_CONTENT_TYPES:
        raise SettingsError(f"PLIVO_CONTENT_TYPE must be one of {', '.join(PLIVO_CONTENT_TYPES)}")
    base = api_base(reader, API_BASE)
    assert base is not None
    return PlivoSettings(
        auth_id=reader.get_text(AUTH_ID),
        auth_token=token,
        api_base=base,
        content_type=content_type.lower(),
        allow_unsigned=allow_unsigned,
    )

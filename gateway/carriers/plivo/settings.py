"""Plivo's settings: its environment variables, declared and read (docs/carriers/plivo.md)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.carriers.config import api_base
from gateway.carriers.plugin import Variable
from gateway.env_reader import EnvReader, SettingsError
from gateway.log import register_secret

__all__ = ["PLIVO_CONTENT_TYPES", "VARIABLES", "PlivoSettings", "read_settings"]

VARIABLES = (
    Variable("PLIVO_AUTH_ID", "text", "", "the account; REST requests (Basic auth)"),
    Variable("PLIVO_AUTH_TOKEN", "secret", "", "checks `X-Plivo-Signature-V3`; REST requests"),
    Variable("PLIVO_API_BASE", "url", "https://api.plivo.com", "REST API base"),
    Variable(
        "PLIVO_CONTENT_TYPE",
        "choice",
        "audio/x-mulaw;rate=8000",
        "the stream's audio, both directions",
    ),
)


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


PLIVO_CONTENT_TYPES = ("audio/x-mulaw;rate=8000", "audio/x-l16;rate=8000", "audio/x-l16;rate=16000")


def read_settings(reader: EnvReader, allow_unsigned: bool = False) -> PlivoSettings:
    token = reader.text("PLIVO_AUTH_TOKEN")
    register_secret(token)
    content_type = (reader.text("PLIVO_CONTENT_TYPE") or PLIVO_CONTENT_TYPES[0]).replace(" ", "")
    if content_type.lower() not in PLIVO_CONTENT_TYPES:
        raise SettingsError(f"PLIVO_CONTENT_TYPE must be one of {', '.join(PLIVO_CONTENT_TYPES)}")
    base = api_base(reader, "PLIVO_API_BASE", "https://api.plivo.com")
    assert base is not None
    return PlivoSettings(
        auth_id=reader.text("PLIVO_AUTH_ID"),
        auth_token=token,
        api_base=base,
        content_type=content_type.lower(),
        allow_unsigned=allow_unsigned,
    )

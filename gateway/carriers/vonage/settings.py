"""Vonage's settings: its environment variables, declared and read (docs/carriers/vonage.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gateway.carriers.config import audio_rate
from gateway.carriers.plugin import Variable
from gateway.env_reader import EnvReader, SettingsError
from gateway.log import register_secret

__all__ = ["VARIABLES", "VonageSettings", "read_settings"]

VARIABLES = (
    Variable("VONAGE_SIGNATURE_SECRET", "secret", "", "checks the signed webhooks' JWT (HS256)"),
    Variable("VONAGE_APPLICATION_ID", "text", "", "the Voice API application; REST requests"),
    Variable(
        "VONAGE_PRIVATE_KEY",
        "secret",
        "",
        "the application's PEM private key (signs RS256 REST tokens)",
    ),
    Variable("VONAGE_PRIVATE_KEY_FILE", "path", "", "the same key from a file (not both)"),
    Variable("VONAGE_API_BASE", "url", "https://api.nexmo.com", "Voice API base"),
    Variable(
        "VONAGE_AUDIO_RATE",
        "integer",
        "16000",
        "L16 rate of the media websocket: 8000, 16000 or 24000",
    ),
    Variable("VONAGE_FROM_NUMBER", "text", "", "caller id a transfer presents"),
)


@dataclass(frozen=True)
class VonageSettings:
    """The Vonage Voice API application (docs/carriers/vonage.md)."""

    application_id: str | None = None
    private_key: str | None = None
    """VONAGE_PRIVATE_KEY(_FILE): the application's PEM key; signs REST requests (RS256)."""
    signature_secret: str | None = None
    """VONAGE_SIGNATURE_SECRET: checks the signed webhooks' JWT when set."""
    api_base: str = "https://api.nexmo.com"
    audio_rate_hz: int = 16_000
    from_number: str | None = None
    """VONAGE_FROM_NUMBER: the caller id a transfer presents (one of the account's numbers)."""
    allow_unsigned: bool = False
    """In GATEWAY_UNSIGNED_CARRIERS: webhooks are taken without a signature secret."""

    def __repr__(self) -> str:
        key = "***" if self.private_key else None
        secret = "***" if self.signature_secret else None
        return (
            f"VonageSettings(application_id={self.application_id!r}, private_key={key!r}, "
            f"signature_secret={secret!r}, audio_rate_hz={self.audio_rate_hz})"
        )


def read_settings(reader: EnvReader, allow_unsigned: bool = False) -> VonageSettings:
    key = reader.text("VONAGE_PRIVATE_KEY")
    path = reader.text("VONAGE_PRIVATE_KEY_FILE")
    if key and path:
        raise SettingsError("set VONAGE_PRIVATE_KEY or VONAGE_PRIVATE_KEY_FILE, not both")
    if path:
        try:
            key = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"VONAGE_PRIVATE_KEY_FILE cannot be read: {exc}") from None
    if key is not None and "PRIVATE KEY-----" not in key:
        raise SettingsError("VONAGE_PRIVATE_KEY must be a PEM private key")
    secret = reader.text("VONAGE_SIGNATURE_SECRET")
    register_secret(key)
    register_secret(secret)
    base = (reader.text("VONAGE_API_BASE") or "https://api.nexmo.com").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise SettingsError("VONAGE_API_BASE must be an http(s):// URL")
    return VonageSettings(
        application_id=reader.text("VONAGE_APPLICATION_ID"),
        private_key=key,
        signature_secret=secret,
        api_base=base,
        audio_rate_hz=audio_rate(reader, "VONAGE_AUDIO_RATE", 16_000),
        from_number=reader.text("VONAGE_FROM_NUMBER"),
        allow_unsigned=allow_unsigned,
    )

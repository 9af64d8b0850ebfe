"""Vonage's settings: its environment variables, declared and read (docs/carriers/vonage.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gateway.carriers.config import api_base, audio_rate, http_url
from gateway.env_reader import EnvReader, SettingsError
from gateway.log import register_secret
from gateway.options.option import Option

__all__ = ["OPTIONS", "VonageSettings", "read_settings"]

SECTION: Final = "Vonage"
SIGNATURE_SECRET = Option(
    "VONAGE_SIGNATURE_SECRET", "secret", "the account's signature secret; checks the signed "
    "webhooks' `Authorization: Bearer` JWT (HS256)", SECTION, default_doc="none",
)  # fmt: skip
APPLICATION_ID = Option(
    "VONAGE_APPLICATION_ID", "text", "the Voice API application; with the private key, transfer "
    "and hang-up requests", SECTION, default_doc="none",
)  # fmt: skip
PRIVATE_KEY = Option(
    "VONAGE_PRIVATE_KEY", "secret", "the application's PEM private key (text, or a file; not "
    "both): signs the RS256 REST tokens", SECTION, default_doc="none",
)  # fmt: skip
PRIVATE_KEY_FILE = Option(
    "VONAGE_PRIVATE_KEY_FILE", "text", "the private key's file", SECTION, own_row=False
)
API_BASE = Option(
    "VONAGE_API_BASE", "text", "Voice API base (a proxy, or a fake server in tests)", SECTION,
    default="https://api.nexmo.com", check=http_url,
)  # fmt: skip
AUDIO_RATE = Option(
    "VONAGE_AUDIO_RATE", "int", "L16 rate of the media websocket: `8000`, `16000` or `24000`",
    SECTION, default=16_000, minimum=0, check=audio_rate,
)  # fmt: skip
FROM_NUMBER = Option(
    "VONAGE_FROM_NUMBER", "text", "caller id a transfer presents; unset: the number the caller "
    "dialled", SECTION, default_doc="none",
)  # fmt: skip
OPTIONS: Final = (
    SIGNATURE_SECRET, APPLICATION_ID, PRIVATE_KEY, PRIVATE_KEY_FILE, API_BASE, AUDIO_RATE,
    FROM_NUMBER,
)  # fmt: skip


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
    key = reader.get_text(PRIVATE_KEY)
    path = reader.get_text(PRIVATE_KEY_FILE)
    if key and path:
        raise SettingsError("set VONAGE_PRIVATE_KEY or VONAGE_PRIVATE_KEY_FILE, not both")
    if path:
        try:
            key = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"VONAGE_PRIVATE_KEY_FILE cannot be read: {exc}") from None
    if key is not None and "PRIVATE KEY-----" not in key:
        raise SettingsError("VONAGE_PRIVATE_KEY must be a PEM private key")
    secret = reader.get_text(SIGNATURE_SECRET)
    register_secret(key)
    register_secret(secret)
    base = api_base(reader, API_BASE)
    rate_hz = reader.get_int(AUDIO_RATE)
    assert base is not None  # both have a default
    assert rate_hz is not None
    return VonageSettings(
        application_id=reader.get_text(APPLICATION_ID),
        private_key=key,
        signature_secret=secret,
        api_base=base,
        audio_rate_hz=rate_hz,
        from_number=reader.get_text(FROM_NUMBER),
        allow_unsigned=allow_unsigned,
    )

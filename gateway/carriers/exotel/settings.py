"""Exotel's settings: its environment variables, declared and read (docs/carriers/exotel.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gateway.carriers.config import audio_rate
from gateway.env_reader import EnvReader, SettingsError
from gateway.log import register_secret
from gateway.options.option import Option

__all__ = ["OPTIONS", "ExotelSettings", "read_settings"]

SECTION: Final = "Exotel"
STREAM_USER = Option(
    "EXOTEL_STREAM_USER", "text", "the Basic credentials in the Voicebot applet's URL, checked on "
    "`/exotel/voice` and the media upgrade (both or neither)", SECTION, default_doc="none",
)  # fmt: skip
STREAM_PASSWORD = Option(
    "EXOTEL_STREAM_PASSWORD", "secret", "Exotel's stream password", SECTION, own_row=False
)
AUDIO_RATE = Option(
    "EXOTEL_AUDIO_RATE", "int", "L16 rate asked for in the stream URL (`sample-rate`): `8000`, "
    "`16000` or `24000`", SECTION, default=8_000, minimum=0, check=audio_rate,
)  # fmt: skip
OPTIONS: Final = (STREAM_USER, STREAM_PASSWORD, AUDIO_RATE)


@dataclass(frozen=True)
class ExotelSettings:
    """The Exotel Voicebot applet (docs/carriers/exotel.md)."""

    stream_user: str | None = None
    """EXOTEL_STREAM_USER / EXOTEL_STREAM_PASSWORD: the Basic credentials Exotel presents (the
    `user:password@` of the applet's URL); unset, every request is refused (unless unsigned)."""
    stream_password: str | None = None
    audio_rate_hz: int = 8_000
    allow_unsigned: bool = False
    """In GATEWAY_UNSIGNED_CARRIERS: requests are taken without Basic credentials."""

    def __repr__(self) -> str:
        password = "***" if self.stream_password else None
        return (
            f"ExotelSettings(stream_user={self.stream_user!r}, stream_password={password!r}, "
            f"audio_rate_hz={self.audio_rate_hz})"
        )


def read_settings(reader: EnvReader, allow_unsigned: bool = False) -> ExotelSettings:
    user = reader.get_text(STREAM_USER)
    password = reader.get_text(STREAM_PASSWORD)
    if (user is None) != (password is None):
        raise SettingsError("set both EXOTEL_STREAM_USER and EXOTEL_STREAM_PASSWORD, or neither")
    register_secret(password)
    rate_hz = reader.get_int(AUDIO_RATE)
    assert rate_hz is not None
    return ExotelSettings(
        stream_user=user,
        stream_password=password,
        audio_rate_hz=rate_hz,
        allow_unsigned=allow_unsigned,
    )

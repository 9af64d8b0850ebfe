"""Exotel's settings: its environment variables, declared and read (docs/carriers/exotel.md)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.carriers.config import audio_rate
from gateway.carriers.plugin import Variable
from gateway.env_reader import EnvReader, SettingsError
from gateway.log import register_secret

__all__ = ["VARIABLES", "ExotelSettings", "read_settings"]

VARIABLES = (
    Variable("EXOTEL_STREAM_USER", "text", "", "the Basic user in the Voicebot applet's URL"),
    Variable("EXOTEL_STREAM_PASSWORD", "secret", "", "the Basic password (both or neither)"),
    Variable(
        "EXOTEL_AUDIO_RATE",
        "integer",
        "8000",
        "L16 rate asked for in the stream URL (`sample-rate`)",
    ),
)


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
    user = reader.text("EXOTEL_STREAM_USER")
    password = reader.text("EXOTEL_STREAM_PASSWORD")
    if (user is None) != (password is None):
        raise SettingsError("set both EXOTEL_STREAM_USER and EXOTEL_STREAM_PASSWORD, or neither")
    register_secret(password)
    return ExotelSettings(
        stream_user=user,
        stream_password=password,
        audio_rate_hz=audio_rate(reader, "EXOTEL_AUDIO_RATE", 8_000),
        allow_unsigned=allow_unsigned,
    )

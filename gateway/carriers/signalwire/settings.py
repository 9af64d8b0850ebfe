"""SignalWire's settings: its environment variables, declared and read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gateway.carriers.config import api_base, http_url
from gateway.env_reader import EnvReader, SettingsError
from gateway.log import register_secret
from gateway.options.option import Option

__all__ = ["OPTIONS", "SIGNALWIRE_CODECS", "SignalWireSettings", "read_settings"]

SIGNALWIRE_CODECS = ("PCMU", "PCMA", "L16@8000h", "L16@16000h", "L16@24000h")

SECTION: Final = "SignalWire"
SIGNING_KEY = Option(
    "SIGNALWIRE_SIGNING_KEY", "secret", "the project's Signing Key; checks "
    "`X-SignalWire-Signature`", SECTION, default_doc="none",
)  # fmt: skip
PROJECT_ID = Option(
    "SIGNALWIRE_PROJECT_ID", "text", "REST requests (Basic auth)", SECTION, default_doc="none"
)
API_TOKEN = Option(
    "SIGNALWIRE_API_TOKEN", "secret", "SignalWire's API token", SECTION, own_row=False
)
SPACE_URL = Option(
    "SIGNALWIRE_SPACE_URL", "text", "`https://<space>.signalwire.com`, the REST base", SECTION,
    default_doc="none", check=http_url,
)  # fmt: skip
CODEC = Option(
    "SIGNALWIRE_CODEC", "text", "`PCMU`, `PCMA`, `L16@8000h`, `L16@16000h`, `L16@24000h`",
    SECTION, default="PCMU",
)  # fmt: skip
L16_BYTE_ORDER = Option(
    "SIGNALWIRE_L16_BYTE_ORDER", "choice", "byte order of L16 payloads (`big`: network order)",
    SECTION, default="little", choices=("little", "big"),
)  # fmt: skip
OPTIONS: Final = (SIGNING_KEY, PROJECT_ID, API_TOKEN, SPACE_URL, CODEC, L16_BYTE_ORDER)


@dataclass(frozen=True)
class SignalWireSettings:
    """The SignalWire project (docs/carriers/signalwire.md)."""

    project_id: str | None = None
    api_token: str | None = None
    """SIGNALWIRE_API_TOKEN: REST requests (Basic project_id:token)."""
    signing_key: str | None = None
    """SIGNALWIRE_SIGNING_KEY: checks X-SignalWire-Signature / X-Twilio-Signature."""
    space_url: str | None = None
    """SIGNALWIRE_SPACE_URL: `https://<space>.signalwire.com`, the REST base."""
    codec: str = "PCMU"
    """SIGNALWIRE_CODEC: PCMU, PCMA, L16@8000h, L16@16000h or L16@24000h."""
    l16_big_endian: bool = False
    """SIGNALWIRE_L16_BYTE_ORDER=big: L16 payloads in network byte order [unverified]."""
    allow_unsigned: bool = False

    def __repr__(self) -> str:
        token = "***" if self.api_token else None
        key = "***" if self.signing_key else None
        return (
            f"SignalWireSettings(project_id={self.project_id!r}, api_token={token!r}, "
            f"signing_key={key!r}, codec={self.codec!r})"
        )


def read_settings(reader: EnvReader, allow_unsigned: bool = False) -> SignalWireSettings:
    token = reader.get_text(API_TOKEN)
    key = reader.get_text(SIGNING_KEY)
    register_secret(token)
    register_secret(key)
    codecs = {codec.lower(): codec for codec in SIGNALWIRE_CODECS}
    codec = codecs.get(str(reader.get_text(CODEC)).lower())
    if codec is None:
        raise SettingsError(f"SIGNALWIRE_CODEC must be one of {', '.join(SIGNALWIRE_CODECS)}")
    order = reader.get_text(L16_BYTE_ORDER)
    return SignalWireSettings(
        project_id=reader.get_text(PROJECT_ID),
        api_token=token,
        signing_key=key,
        space_url=api_base(reader, SPACE_URL),
        codec=codec,
        l16_big_endian=order == "big",
        allow_unsigned=allow_unsigned,
    )

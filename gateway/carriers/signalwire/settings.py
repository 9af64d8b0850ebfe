"""SignalWire's settings: its environment variables, declared and read."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.carriers.config import api_base
from gateway.carriers.plugin import Variable
from gateway.env_reader import EnvReader, SettingsError
from gateway.log import register_secret

__all__ = ["SIGNALWIRE_CODECS", "VARIABLES", "SignalWireSettings", "read_settings"]

VARIABLES = (
    Variable(
        "SIGNALWIRE_SIGNING_KEY",
        "secret",
        "",
        "the project's Signing Key; checks `X-SignalWire-Signature`",
    ),
    Variable("SIGNALWIRE_PROJECT_ID", "text", "", "REST requests (Basic auth)"),
    Variable("SIGNALWIRE_API_TOKEN", "secret", "", "REST requests (Basic auth)"),
    Variable("SIGNALWIRE_SPACE_URL", "url", "", "`https://<space>.signalwire.com`, the REST base"),
    Variable(
        "SIGNALWIRE_CODEC",
        "choice",
        "PCMU",
        "`PCMU`, `PCMA`, `L16@8000h`, `L16@16000h`, `L16@24000h`",
    ),
    Variable(
        "SIGNALWIRE_L16_BYTE_ORDER",
        "choice",
        "little",
        "byte order of L16 payloads (`big`: network order)",
    ),
)


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


SIGNALWIRE_CODECS = ("PCMU", "PCMA", "L16@8000h", "L16@16000h", "L16@24000h")


def read_settings(reader: EnvReader, allow_unsigned: bool = False) -> SignalWireSettings:
    token = reader.text("SIGNALWIRE_API_TOKEN")
    key = reader.text("SIGNALWIRE_SIGNING_KEY")
    register_secret(token)
    register_secret(key)
    codecs = {codec.lower(): codec for codec in SIGNALWIRE_CODECS}
    codec = codecs.get((reader.text("SIGNALWIRE_CODEC") or "PCMU").lower())
    if codec is None:
        raise SettingsError(f"SIGNALWIRE_CODEC must be one of {', '.join(SIGNALWIRE_CODECS)}")
    order = reader.choice("SIGNALWIRE_L16_BYTE_ORDER", ("little", "big")) or "little"
    return SignalWireSettings(
        project_id=reader.text("SIGNALWIRE_PROJECT_ID"),
        api_token=token,
        signing_key=key,
        space_url=api_base(reader, "SIGNALWIRE_SPACE_URL", None),
        codec=codec,
        l16_big_endian=order == "big",
        allow_unsigned=allow_unsigned,
    )

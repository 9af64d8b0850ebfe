"""Telnyx's settings: its environment variables, declared and read (docs/carriers/telnyx.md)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.carriers.config import api_base
from gateway.carriers.plugin import Variable
from gateway.env_reader import EnvReader, SettingsError
from gateway.log import register_secret

__all__ = ["VARIABLES", "TelnyxSettings", "read_settings"]

VARIABLES = (
    Variable(
        "TELNYX_PUBLIC_KEY",
        "text",
        "",
        "base64 Ed25519 public key; checks `telnyx-signature-ed25519`",
    ),
    Variable(
        "TELNYX_SIGNATURE_TOLERANCE_S",
        "number",
        "300",
        "how far a webhook's `telnyx-timestamp` may be from our clock",
    ),
    Variable("TELNYX_API_KEY", "secret", "", "Call Control requests (transfer, hang-up)"),
    Variable("TELNYX_API_BASE", "url", "https://api.telnyx.com", "REST API base"),
    Variable("TELNYX_CODEC", "choice", "PCMU", "`PCMU` or `PCMA`, both directions"),
)


@dataclass(frozen=True)
class TelnyxSettings:
    """The Telnyx account (docs/carriers/telnyx.md)."""

    api_key: str | None = None
    """TELNYX_API_KEY: Call Control requests (transfer, hang-up)."""
    public_key: str | None = None
    """TELNYX_PUBLIC_KEY: base64 Ed25519 key that checks `telnyx-signature-ed25519`."""
    api_base: str = "https://api.telnyx.com"
    codec: str = "PCMU"
    """TELNYX_CODEC: PCMU or PCMA, both directions."""
    signature_tolerance_s: float = 300.0
    allow_unsigned: bool = False
    """In GATEWAY_UNSIGNED_CARRIERS: webhooks are taken without a public key (tests, demos)."""

    def __repr__(self) -> str:
        key = "***" if self.api_key else None
        return f"TelnyxSettings(api_key={key!r}, public_key={self.public_key!r})"


def read_settings(reader: EnvReader, allow_unsigned: bool = False) -> TelnyxSettings:
    from gateway.carriers.telnyx.signature import load_public_key

    api_key = reader.text("TELNYX_API_KEY")
    register_secret(api_key)
    public_key = reader.text("TELNYX_PUBLIC_KEY")
    if public_key is not None:
        try:
            load_public_key(public_key)
        except ValueError:
            raise SettingsError("TELNYX_PUBLIC_KEY must be base64 of a 32-byte key") from None
    codec = reader.choice("TELNYX_CODEC", ("pcmu", "pcma")) or "pcmu"
    base = api_base(reader, "TELNYX_API_BASE", "https://api.telnyx.com")
    assert base is not None
    return TelnyxSettings(
        api_key=api_key,
        public_key=public_key,
        api_base=base,
        codec=codec.upper(),
        signature_tolerance_s=reader.number("TELNYX_SIGNATURE_TOLERANCE_S", 300.0),
        allow_unsigned=allow_unsigned,
    )

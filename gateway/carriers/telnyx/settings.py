"""Telnyx's settings: its environment variables, declared and read (docs/carriers/telnyx.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gateway.carriers.config import api_base, http_url
from gateway.env_reader import EnvReader, SettingsError
from gateway.log import register_secret
from gateway.options.option import Option

__all__ = ["OPTIONS", "TelnyxSettings", "read_settings"]

SECTION: Final = "Telnyx"
PUBLIC_KEY = Option(
    "TELNYX_PUBLIC_KEY", "text", "base64 Ed25519 public key (Portal → Keys & Credentials); checks "
    "`telnyx-signature-ed25519`", SECTION, default_doc="none",
)  # fmt: skip
SIGNATURE_TOLERANCE_S = Option(
    "TELNYX_SIGNATURE_TOLERANCE_S", "number", "how far a webhook's `telnyx-timestamp` may be "
    "from our clock", SECTION, default=300.0, minimum=0,
)  # fmt: skip
API_KEY = Option(
    "TELNYX_API_KEY", "secret", "Call Control requests (transfer, hang-up)", SECTION,
    default_doc="none",
)  # fmt: skip
API_BASE = Option(
    "TELNYX_API_BASE", "text", "REST API base", SECTION, default="https://api.telnyx.com",
    check=http_url,
)  # fmt: skip
ACCOUNT_SID = Option(
    "TELNYX_ACCOUNT_SID", "text", "dial-outs (`POST /calls`, docs/outbound.md): the account id "
    "in the TeXML Calls API's path", SECTION, default_doc="none",
)  # fmt: skip
TEXML_APP_ID = Option(
    "TELNYX_TEXML_APP_ID", "text", "dial-outs: the TeXML application the calls are placed "
    "under (its id in the Portal)", SECTION, default_doc="none",
)  # fmt: skip
CODEC = Option(
    "TELNYX_CODEC", "choice", "`PCMU` or `PCMA`, both directions", SECTION, default="PCMU",
    choices=("pcmu", "pcma"),
)  # fmt: skip
OPTIONS: Final = (
    PUBLIC_KEY,
    SIGNATURE_TOLERANCE_S,
    API_KEY,
    API_BASE,
    ACCOUNT_SID,
    TEXML_APP_ID,
    CODEC,
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
    account_sid: str | None = None
    """TELNYX_ACCOUNT_SID: dial-outs (the TeXML Calls API's path)."""
    texml_app_id: str | None = None
    """TELNYX_TEXML_APP_ID: the TeXML application dial-outs are placed under."""
    allow_unsigned: bool = False
    """In GATEWAY_UNSIGNED_CARRIERS: webhooks are taken without a public key (tests, demos)."""

    def __repr__(self) -> str:
        key = "***" if self.api_key else None
        return f"TelnyxSettings(api_key={key!r}, public_key={self.public_key!r})"


def read_settings(reader: EnvReader, allow_unsigned: bool = False) -> TelnyxSettings:
    from gateway.carriers.telnyx.signature import load_public_key

    api_key = reader.get_text(API_KEY)
    register_secret(api_key)
    public_key = reader.get_text(PUBLIC_KEY)
    if public_key is not None:
        try:
            load_public_key(public_key)
        except ValueError:
            raise SettingsError("TELNYX_PUBLIC_KEY must be base64 of a 32-byte key") from None
    codec = reader.get_text(CODEC)
    base = api_base(reader, API_BASE)
    tolerance_s = reader.get_float(SIGNATURE_TOLERANCE_S)
    assert codec is not None  # each has a default
    assert base is not None
    assert tolerance_s is not None
    return TelnyxSettings(
        api_key=api_key,
        public_key=public_key,
        api_base=base,
        codec=codec.upper(),
        signature_tolerance_s=tolerance_s,
        account_sid=reader.get_text(ACCOUNT_SID),
        texml_app_id=reader.get_text(TEXML_APP_ID),
        allow_unsigned=allow_unsigned,
    )

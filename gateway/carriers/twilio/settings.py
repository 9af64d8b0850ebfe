"""Twilio's settings: its environment variables, declared and read (docs/carriers/twilio.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gateway.carriers.config import api_base, http_url
from gateway.env_reader import EnvReader
from gateway.log import register_secret
from gateway.options.option import Option

__all__ = ["OPTIONS", "TwilioSettings", "read_settings"]

SECTION: Final = "Twilio"
ACCOUNT_SID = Option(
    "TWILIO_ACCOUNT_SID", "text", "the account (`AC…`); REST requests need it", SECTION,
    default_doc="none",
)  # fmt: skip
AUTH_TOKEN = Option(
    "TWILIO_AUTH_TOKEN", "secret", "checks `X-Twilio-Signature` on every webhook and media "
    "stream, and authenticates REST requests (transfer, hang-up). Unset: every Twilio webhook is "
    "refused (see the signature policy above)", SECTION, default_doc="none",
)  # fmt: skip
API_BASE = Option(
    "TWILIO_API_BASE", "text", "REST API base (a proxy, or a fake server in tests)", SECTION,
    default="https://api.twilio.com", check=http_url,
)  # fmt: skip
OPTIONS: Final = (ACCOUNT_SID, AUTH_TOKEN, API_BASE)


@dataclass(frozen=True)
class TwilioSettings:
    """The Twilio account (docs/carriers/twilio.md)."""

    account_sid: str | None = None
    auth_token: str | None = None
    """Validates X-Twilio-Signature when set; REST calls (transfer, hang-up) need it too."""
    api_base: str = "https://api.twilio.com"
    allow_unsigned: bool = False
    """In GATEWAY_UNSIGNED_CARRIERS: webhooks are taken without an auth token."""

    def __repr__(self) -> str:
        token = "***" if self.auth_token else None
        return f"TwilioSettings(account_sid={self.account_sid!r}, auth_token={token!r})"


def read_settings(reader: EnvReader, allow_unsigned: bool = False) -> TwilioSettings:
    token = reader.get_text(AUTH_TOKEN)
    register_secret(token)
    base = api_base(reader, API_BASE)
    assert base is not None
    return TwilioSettings(
        account_sid=reader.get_text(ACCOUNT_SID),
        auth_token=token,
        api_base=base,
        allow_unsigned=allow_unsigned,
    )

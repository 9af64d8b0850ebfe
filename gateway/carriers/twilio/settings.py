"""Twilio's settings: its environment variables, declared and read (docs/carriers/twilio.md)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.carriers.plugin import Variable
from gateway.env_reader import EnvReader, SettingsError
from gateway.log import register_secret

__all__ = ["VARIABLES", "TwilioSettings", "read_settings"]

VARIABLES = (
    Variable("TWILIO_ACCOUNT_SID", "text", "", "the account (`AC…`); REST requests need it"),
    Variable(
        "TWILIO_AUTH_TOKEN",
        "secret",
        "",
        "checks `X-Twilio-Signature` on webhooks and media streams; REST requests",
    ),
    Variable(
        "TWILIO_API_BASE",
        "url",
        "https://api.twilio.com",
        "REST API base (a proxy, or a fake server in tests)",
    ),
)


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
    token = reader.text("TWILIO_AUTH_TOKEN")
    register_secret(token)
    base = (reader.text("TWILIO_API_BASE") or "https://api.twilio.com").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise SettingsError("TWILIO_API_BASE must be an http(s):// URL")
    return TwilioSettings(
        account_sid=reader.text("TWILIO_ACCOUNT_SID"),
        auth_token=token,
        api_base=base,
        allow_unsigned=allow_unsigned,
    )

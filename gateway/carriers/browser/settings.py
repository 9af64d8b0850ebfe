"""The web softphone's settings: whether `/phone` is served, and the key it asks for.

Both variables are the core's (`gateway.options.core`: GATEWAY_DEV_PHONE, GATEWAY_API_KEY, which
the dial-out API shares), read here through their declarations; the softphone declares no
variable of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.env_reader import EnvReader
from gateway.log import register_secret
from gateway.options import core as opt

__all__ = ["BrowserSettings", "read_browser_settings"]


@dataclass(frozen=True)
class BrowserSettings:
    api_key: str | None = None
    """GATEWAY_API_KEY: asked for whenever the page is reached through a public URL."""
    dev_phone: bool | None = None
    """GATEWAY_DEV_PHONE: `/phone` served (True), not (False), or with the emulator (None)."""
    public_url: bool = False
    """GATEWAY_PUBLIC_URL is set: the gateway is reachable from outside this machine."""
    allow_unsigned: bool = False
    """Unused: the softphone's own access rule applies (`BrowserPlugin.verify`)."""

    def __repr__(self) -> str:  # never print the key
        key = "***" if self.api_key else None
        return f"BrowserSettings(api_key={key!r}, dev_phone={self.dev_phone!r})"

    def enabled(self, embedded_emulator: bool) -> bool:
        """Whether `/phone` is served: GATEWAY_DEV_PHONE, else only with the embedded emulator."""
        return embedded_emulator if self.dev_phone is None else self.dev_phone


def read_browser_settings(reader: EnvReader) -> BrowserSettings:
    api_key = reader.get_text(opt.API_KEY)
    register_secret(api_key)
    return BrowserSettings(
        api_key=api_key,
        dev_phone=reader.get_flag(opt.DEV_PHONE),
        public_url=reader.get_text(opt.PUBLIC_URL) is not None,
    )

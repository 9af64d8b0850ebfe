"""Trust for the Live leg's TLS: the system's CA certificates, plus one private CA file if set.

`GATEWAY_LIVE_CA_FILE` names a PEM file of CA certificates that the Live WebSocket (`wss://`)
trusts in addition to the system's default store: a TLS-inspecting egress proxy, a private Live
endpoint, or the emulator's `gateway emulator --tls --cert-out FILE` certificate in a bench. It
applies to the Live leg only (OpenSSL's `SSL_CERT_FILE` would instead replace the whole
process's trust store). `load_settings` checks the file at start-up (missing, unreadable or
without a certificate: a settings error naming the variable); the Live client builds one context
from it for every session.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from gateway.env_reader import SettingsError

__all__ = ["CA_FILE_VARIABLE", "live_ssl_context"]

CA_FILE_VARIABLE = "GATEWAY_LIVE_CA_FILE"


def live_ssl_context(ca_file: Path) -> ssl.SSLContext:
    """A client context trusting the system's CAs and those in `ca_file` (SettingsError if the
    file cannot be read or holds no certificate)."""
    context = ssl.create_default_context()
    try:
        context.load_verify_locations(cafile=ca_file)
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SettingsError(
            f"{CA_FILE_VARIABLE}: cannot load CA certificates (PEM) from {ca_file}: {reason}"
        ) from None
    return context

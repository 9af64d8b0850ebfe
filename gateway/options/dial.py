"""The dial-out options (docs/outbound.md), declared once. The API's key, GATEWAY_API_KEY, is
the call server's (`gateway.options.core.API_KEY`): the web softphone shares it."""

from __future__ import annotations

import re
from typing import Any, Final

from gateway.options.option import Option

__all__ = [
    "DIAL_ALLOWED_PREFIXES",
    "DIAL_DEFAULT_CARRIER",
    "DIAL_OPTIONS",
    "HELLO_TIMEOUT_MS",
    "VOICEMAIL_MESSAGE",
]

SECTION: Final = "Outbound calls"


def _prefixes(value: Any) -> str | None:
    for prefix in value:
        if not re.fullmatch(r"\+[0-9]{1,15}", prefix):
            return f"must be E.164 prefixes such as +1555 or +44, not {prefix!r}"
    return None


DIAL_ALLOWED_PREFIXES = Option(
    "GATEWAY_DIAL_ALLOWED_PREFIXES", "list", "destination prefixes dial-outs may call "
    "(comma-separated E.164 prefixes, `+1555,+44`; `+` allows every number). Empty: every "
    "dial-out is refused (toll-fraud guard)", SECTION, check=_prefixes, default_doc="empty",
    example="+1555",
)  # fmt: skip
DIAL_DEFAULT_CARRIER = Option(
    "GATEWAY_DIAL_CARRIER", "text", "the carrier `POST /calls` dials through when the request "
    "names none. Unset: the only carrier whose dial-out credentials are set", SECTION,
    default_doc="unset", example="twilio",
)  # fmt: skip

VOICEMAIL_MESSAGE = Option(
    None, "text", "outbound calls with `machine_detection = leave_voicemail`: the message the "
    "agent leaves after the beep (placeholders such as `{customer_name}` are filled from the "
    "request's variables). Unset: a machine is hung up on", SECTION,
    profile="voicemail_message", default_doc="unset",
)  # fmt: skip
HELLO_TIMEOUT_MS = Option(
    None, "int", "outbound calls: the agent waits this long for the callee's hello before it "
    "greets them first", SECTION, profile="hello_timeout_ms", default=4000, minimum=500,
    maximum=30_000,
)  # fmt: skip

DIAL_OPTIONS: Final = (
    DIAL_ALLOWED_PREFIXES,
    DIAL_DEFAULT_CARRIER,
    VOICEMAIL_MESSAGE,
    HELLO_TIMEOUT_MS,
)

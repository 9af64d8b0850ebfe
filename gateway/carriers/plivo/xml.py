"""Plivo XML: the answer webhook's fields in; `<Stream>` and the fallback/transfer documents out.

protocols.md C.2 and plivo-python `xml/streamElement.py`: the stream's WebSocket URL is the
`<Stream>` element's **text**, not an attribute. The answer asks for a bidirectional stream
(`bidirectional="true"`, inbound audio only) in the configured `contentType` (μ-law 8 kHz by
default; `audio/x-l16;rate=8000|16000` for linear PCM), and keeps the call up while it runs
(`keepCallAlive`).

The call's stream token travels twice, because how Plivo presents either is not verified: in
the stream URL's query string, and in `extraHeaders` (which allows only `[A-Za-z0-9]` keys and
values, so the token goes hex-encoded under `streamtoken`). Either reaching the gateway is
enough. Fallbacks and transfers are Plivo XML too: `<Speak>` then `<Hangup/>` or
`<Dial><Number>`/`<User>` (a `sip:` URI).
"""

from __future__ import annotations

import binascii
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlencode

from gateway.carriers.plugin import VoiceWebhook
from gateway.carriers.twiml import check_url, xml_safe

__all__ = [
    "HEADER_TOKEN",
    "action_xml",
    "header_value",
    "parse_webhook",
    "stream_xml",
    "token_from_header",
]

HEADER_TOKEN: Final = "streamtoken"
"""The `extraHeaders` key of the hex-encoded stream token."""
_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>'
_NUMBER: Final = re.compile(r"\+?[0-9][0-9 ().-]*")
_HEX: Final = re.compile(r"[0-9a-f]+")


def header_value(token: str) -> str:
    """`token` as an extraHeaders value (hex of its ASCII: only [0-9a-f])."""
    return token.encode("ascii").hex()


def token_from_header(value: str) -> str | None:
    """The token an extraHeaders value carries (None when it is not our hex)."""
    text = value.strip().lower()
    if not text or len(text) % 2 or not _HEX.fullmatch(text):
        return None
    try:
        return bytes.fromhex(text).decode("ascii")
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None


def parse_webhook(form: Iterable[tuple[str, str]]) -> VoiceWebhook | None:
    """The call an answer webhook describes (`CallUUID`, `From`, `To`, ...), None without one."""
    fields: dict[str, str] = {}
    for name, value in form:
        fields.setdefault(name, value)
    call_id = fields.get("CallUUID", "")
    if not call_id:
        return None
    return VoiceWebhook(
        call_id=call_id,
        to_number=fields.get("To", ""),
        from_number=fields.get("From", ""),
        direction=fields.get("Direction", ""),
        status=fields.get("CallStatus", ""),
    )


def _document(root: ET.Element) -> str:
    return _DECLARATION + ET.tostring(root, encoding="unicode")


def stream_xml(
    stream_url: str,
    token_parameter: str,
    token: str,
    *,
    content_type: str = "audio/x-mulaw;rate=8000",
    status_callback: str | None = None,
    redirect: str | None = None,
) -> str:
    """`<Response><Stream …>wss://…?{token_parameter}={token}</Stream></Response>`.

    `redirect` (cluster mode): a `<Redirect>` after the stream, which Plivo runs once the stream
    disconnected (`keepCallAlive`): its answer is the call's next XML."""
    check_url(stream_url, ("wss", "ws"), "stream URL")
    if "?" in stream_url or "#" in stream_url:
        raise ValueError("the stream URL must not carry a query string of its own")
    response = ET.Element("Response")
    stream = ET.SubElement(
        response,
        "Stream",
        bidirectional="true",
        audioTrack="inbound",
        keepCallAlive="true",
        contentType=xml_safe(content_type, "content type"),
        extraHeaders=f"{HEADER_TOKEN}={header_value(token)}",
    )
    if status_callback is not None:
        stream.set("statusCallbackUrl", check_url(status_callback, ("https", "http"), "callback"))
        stream.set("statusCallbackMethod", "POST")
    stream.text = f"{stream_url}?{urlencode({token_parameter: token})}"
    if redirect is not None:
        after = ET.SubElement(response, "Redirect", method="POST")
        after.text = check_url(redirect, ("https", "http"), "redirect")
    return _document(response)


def empty_xml() -> str:
    """`<Response/>`: nothing more (the call hangs up)."""
    return _document(ET.Element("Response"))


def action_xml(announcement: str | None, transfer_to: str | None) -> str:
    """`<Speak>` the announcement (if any), then `<Dial>` `transfer_to`, else `<Hangup/>`."""
    response = ET.Element("Response")
    if announcement:
        ET.SubElement(response, "Speak").text = xml_safe(announcement, "spoken text")
    if transfer_to is None:
        ET.SubElement(response, "Hangup")
        return _document(response)
    destination = transfer_to.strip()
    if destination.lower().startswith(("sip:", "sips:")):
        noun = "User"
    elif _NUMBER.fullmatch(destination):
        noun = "Number"
    else:
        raise ValueError("dial destination must be a phone number or a sip: URI")
    dial = ET.SubElement(response, "Dial")
    ET.SubElement(dial, noun).text = xml_safe(destination, "destination")
    return _document(response)

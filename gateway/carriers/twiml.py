"""TwiML documents the gateway answers with (protocols.md B.1, B.6): pure string builders.

* `connect_stream`: the voice webhook's answer, a bidirectional `<Connect><Stream>` whose
  `<Parameter>`s reach us again in the stream's `start.customParameters`.
* `say_and_hang_up`, `say_and_dial`, `dial`: fallbacks (over capacity, Live unavailable) and
  transfers (inline `Twiml=` of the REST call update).

Every value goes through ElementTree, so quotes, angle brackets, ampersands and newlines are
escaped. Characters XML 1.0 cannot carry at all (most control characters, lone surrogates) raise
ValueError rather than produce a document Twilio would reject.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Final

__all__ = [
    "check_url",
    "connect_stream",
    "dial",
    "empty",
    "fallback",
    "say_and_dial",
    "say_and_hang_up",
    "xml_safe",
]

_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>'
_STREAM_SCHEMES: Final = ("wss", "ws")
_CALLBACK_SCHEMES: Final = ("https", "http")
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NUMBER: Final = re.compile(r"\+?[0-9][0-9 ().-]*")
_SIP_PREFIXES: Final = ("sip:", "sips:")


def xml_safe(value: str, what: str) -> str:
    found = _NOT_XML.search(value)
    if found is not None:
        # The offending code point is safe to show; the value itself may be a secret.
        raise ValueError(f"{what} holds U+{ord(found.group()):04X}, which XML cannot carry")
    return value


def _document(root: ET.Element) -> str:
    return _DECLARATION + ET.tostring(root, encoding="unicode")


def check_url(url: str, schemes: tuple[str, ...], what: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in schemes:
        raise ValueError(f"{what} must be a {' or '.join(s + '://' for s in schemes)} URL")
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if not host:
        raise ValueError(f"{what} has no host")
    return xml_safe(url, what)


def connect_stream(
    stream_url: str,
    parameters: Mapping[str, str],
    *,
    status_callback: str | None = None,
    attributes: Mapping[str, str] | None = None,
    allow_query: bool = False,
    action: str | None = None,
    redirect: str | None = None,
) -> str:
    """`<Response><Connect><Stream url=…>` with one `<Parameter>` per entry of `parameters`.

    `stream_url` must be `wss://` (`ws://` only for local tests) and carry no query string or
    fragment: Twilio fails such a stream (errors 31920/31922); pass values as parameters. With
    `status_callback`, Twilio POSTs stream-started/stopped/error events there. The dialects
    built on TwiML (Telnyx TeXML, SignalWire cXML) add their own `<Stream>` `attributes`
    (`codec`, `bidirectionalMode`, ...); `allow_query` lets a dialect that reads its stream
    URL's query string (TeXML) carry one. `action` (cluster mode): the URL the carrier requests
    when the `<Connect>` ends (the stream closed), whose answer is the call's next TwiML;
    `redirect`: the same for a dialect without `action` (TeXML), a `<Redirect>` after the
    `<Connect>`, which runs once the stream stopped.
    """
    check_url(stream_url, _STREAM_SCHEMES, "stream URL")
    if "#" in stream_url or ("?" in stream_url and not allow_query):
        raise ValueError("stream URL must not carry a query string or fragment; use parameters")
    response = ET.Element("Response")
    connect = ET.SubElement(response, "Connect")
    if action is not None:
        connect.set("action", check_url(action, _CALLBACK_SCHEMES, "action"))
        connect.set("method", "POST")
    stream = ET.SubElement(connect, "Stream", url=stream_url)
    for name, value in (attributes or {}).items():
        stream.set(name, xml_safe(value, f"attribute {name!r}"))
    if status_callback is not None:
        stream.set("statusCallback", check_url(status_callback, _CALLBACK_SCHEMES, "callback"))
        stream.set("statusCallbackMethod", "POST")
    for name, value in parameters.items():
        if not name:
            raise ValueError("stream parameter names must not be empty")
        ET.SubElement(
            stream,
            "Parameter",
            name=xml_safe(name, "parameter name"),
            value=xml_safe(value, f"parameter {name!r}"),
        )
    if redirect is not None:
        after = ET.SubElement(response, "Redirect", method="POST")
        after.text = check_url(redirect, _CALLBACK_SCHEMES, "redirect")
    return _document(response)


def empty() -> str:
    """`<Response/>`: nothing more to do (the call ends)."""
    return _document(ET.Element("Response"))


def _say(parent: ET.Element, text: str, voice: str | None, language: str | None) -> None:
    say = ET.SubElement(parent, "Say")
    if voice is not None:
        say.set("voice", xml_safe(voice, "voice"))
    if language is not None:
        say.set("language", xml_safe(language, "language"))
    say.text = xml_safe(text, "spoken text")


def _dial(parent: ET.Element, destination: str) -> None:
    destination = destination.strip()
    noun = (
        "Sip"
        if destination.lower().startswith(_SIP_PREFIXES)
        else "Number"
        if _NUMBER.fullmatch(destination)
        else None
    )
    if noun is None:
        raise ValueError("dial destination must be a phone number or a sip: URI")
    ET.SubElement(ET.SubElement(parent, "Dial"), noun).text = xml_safe(destination, "destination")


def say_and_hang_up(text: str, *, voice: str | None = None, language: str | None = None) -> str:
    """`<Say>text</Say><Hangup/>`: the polite refusal when nobody can take the call."""
    response = ET.Element("Response")
    _say(response, text, voice, language)
    ET.SubElement(response, "Hangup")
    return _document(response)


def say_and_dial(
    text: str,
    number_or_sip: str,
    *,
    voice: str | None = None,
    language: str | None = None,
) -> str:
    """`<Say>text</Say><Dial>…</Dial>`: announce, then connect the caller elsewhere.

    A `sip:`/`sips:` destination goes in `<Sip>`, a phone number in `<Number>`; anything else
    raises ValueError.
    """
    response = ET.Element("Response")
    _say(response, text, voice, language)
    _dial(response, number_or_sip)
    return _document(response)


def dial(destination: str) -> str:
    """`<Dial>` to a phone number or `sip:` URI (a transfer's inline TwiML, B.6)."""
    response = ET.Element("Response")
    _dial(response, destination)
    return _document(response)


def fallback(message: str, transfer_to: str | None) -> str:
    """The polite refusal: `message`, then a dial to `transfer_to` or a hang-up when None."""
    if transfer_to is None:
        return say_and_hang_up(message)
    return say_and_dial(message, transfer_to)

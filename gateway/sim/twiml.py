"""Strict TwiML reading for the simulator: where is the media stream, and what else was said.

protocols.md B.1. `<Connect><Stream url="wss://…">` opens a bidirectional stream; its
`<Parameter name value>` children become `start.customParameters`. Verbs before `<Connect>` run
first; verbs after it run only once the gateway closes the WebSocket. Refusals, as Twilio:

* not XML, or a root other than `<Response>`: 12100 (document parse failure);
* a `<Stream>` without `url`, a `<Parameter>` without `name`/`value`, a stranger inside
  `<Stream>`, or more than one noun in `<Connect>`: 12200 (schema validation);
* a stream URL that is not `wss://`, carries a query string or fragment, or has no host: 31920
  (Twilio cannot complete the handshake). `ws://` is accepted for loopback hosts only
  (127.0.0.0/8, ::1, localhost), so tests and local runs need no certificate;
* a `track` other than `inbound_track` on `<Connect><Stream>`: 31941.

A terminal verb (`Hangup`, `Reject`, `Redirect`) before `<Connect>` means the stream never opens.
`<Start><Stream>` (a one-way fork) is not simulated: it is reported as a verb.
"""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from gateway.sim.dialect import AnswerRefusedError, StreamAnswer, Verb

__all__ = [
    "MAX_TWIML_BYTES",
    "check_action_url",
    "check_stream_url",
    "is_loopback_host",
    "parse_twiml",
]

MAX_TWIML_BYTES = 64 * 1024
"""Twilio's documented TwiML size limit (64 KB); larger answers are refused as unparsable."""

_TERMINAL_VERBS = frozenset({"Hangup", "Reject", "Redirect"})


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_stream_url(url: str, *, allow_query: bool = False) -> None:
    """Raise `AnswerRefusedError` (31920) for a stream URL Twilio would not connect to.

    `allow_query`: the dialect passes the query string on (Telnyx TeXML); a fragment never."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host:
        raise AnswerRefusedError(31920, f"stream url has no host: {url!r}")
    if parts.fragment or (not allow_query and (parts.query or url.rstrip().endswith("?"))):
        raise AnswerRefusedError(
            31920, f"stream url must not carry a query string (use <Parameter>): {url!r}"
        )
    if parts.scheme == "wss":
        return
    if parts.scheme == "ws" and is_loopback_host(host):
        return
    raise AnswerRefusedError(31920, f"stream url must be wss:// (ws:// only on loopback): {url!r}")


def check_action_url(url: str) -> None:
    """Raise `AnswerRefusedError` (12200) for a `<Connect action>` that is not an absolute
    http(s) URL (Twilio resolves relative ones; the gateway always sends absolute ones)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AnswerRefusedError(12200, f"<Connect action> must be an http(s) URL: {url!r}")


def _text(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _verb(element: ET.Element) -> Verb:
    text = _text(element)
    if not text and len(element):
        text = " ".join(child.tag for child in element)
    return Verb(element.tag, text, tuple(sorted(element.attrib.items())))


def _stream(connect: ET.Element, allow_query: bool) -> tuple[str, tuple[tuple[str, str], ...]]:
    if len(connect) != 1:
        raise AnswerRefusedError(12200, "<Connect> holds exactly one noun")
    stream = connect[0]
    url = stream.get("url", "").strip()
    if not url:
        raise AnswerRefusedError(12200, "<Stream> needs a url attribute")
    check_stream_url(url, allow_query=allow_query)
    track = stream.get("track", "inbound_track")
    if track != "inbound_track":
        raise AnswerRefusedError(
            31941, f"<Connect><Stream> allows only inbound_track, got {track!r}"
        )
    parameters: dict[str, str] = {}
    for child in stream:
        if child.tag != "Parameter":
            raise AnswerRefusedError(
                12200, f"<Stream> may hold only <Parameter>, got <{child.tag}>"
            )
        name, value = child.get("name"), child.get("value")
        if not name or value is None:
            raise AnswerRefusedError(12200, "<Parameter> needs a name and a value")
        parameters[name] = value
    return url, tuple(parameters.items())


def parse_twiml(body: str, *, allow_query: bool = False) -> StreamAnswer:
    """Read a TwiML answer; raises `AnswerRefusedError` where Twilio would refuse it.

    The TwiML-compatible dialects (TeXML, cXML) read it too: `allow_query` for TeXML stream
    URLs, and the stream's other attributes come back in `StreamAnswer.attributes`."""
    if len(body.encode()) > MAX_TWIML_BYTES:
        raise AnswerRefusedError(12100, f"TwiML larger than {MAX_TWIML_BYTES} bytes")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise AnswerRefusedError(12100, f"TwiML is not well-formed XML: {exc}") from None
    if root.tag != "Response":
        raise AnswerRefusedError(12100, f"TwiML root must be <Response>, got <{root.tag}>")
    before: list[Verb] = []
    for index, element in enumerate(root):
        if element.tag == "Connect" and any(child.tag == "Stream" for child in element):
            url, parameters = _stream(element, allow_query)
            after = tuple(_verb(e) for e in root[index + 1 :])
            stream = element[0]
            attributes = tuple(sorted((k, v) for k, v in stream.attrib.items() if k != "url"))
            action = element.get("action")
            if action is not None:
                check_action_url(action)
            return StreamAnswer(url, parameters, tuple(before), after, attributes, action)
        before.append(_verb(element))
        if element.tag in _TERMINAL_VERBS:
            break
    return StreamAnswer(None, (), tuple(before), ())

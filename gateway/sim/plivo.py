"""Plivo as a caller of the gateway: the signed answer webhook, Plivo XML, the media stream.

protocols.md C.2. The answer webhook is a url-encoded form POST signed with
`X-Plivo-Signature-V3` (HMAC-SHA256 with the Auth Token, `SimOptions.auth_token`) and a fresh
`X-Plivo-Signature-V3-Nonce`. The answer must be `<Response>` with a `<Stream>` whose **text**
is the WebSocket URL; it is read strictly:

* `bidirectional="true"` is required (the gateway plays audio back), `audioTrack` inbound only;
* `contentType` one of `audio/x-mulaw;rate=8000`, `audio/x-l16;rate=8000|16000` (default
  `audio/x-l16;rate=8000`, as Plivo's);
* `extraHeaders` `k=v,…` with only `[A-Za-z0-9]`, at most 512 bytes; they reach the gateway in
  `start.extra_headers`;
* the URL `wss://` (`ws://` on loopback), a query string kept.

Refusals use code 8011 (ours: Plivo's XML validation codes are not documented). The WebSocket
upgrade is signed as Plivo signs it (plivo-python 4.63.1): `X-Plivo-Signature-V3` of a GET of the
full stream URL (`ws://` or `wss://`, with its query), with a fresh nonce.
"""

from __future__ import annotations

import re
import secrets
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

from gateway.audio.paths import Encoding
from gateway.carriers.plivo.signature import NONCE_HEADER, SIGNATURE_HEADER, compute_signature
from gateway.sim.codecs import StreamCodec
from gateway.sim.dialect import AnswerRefusedError, StreamAnswer, Verb, WebhookRequest
from gateway.sim.plivo_stream import PlivoStream
from gateway.sim.script import SimOptions
from gateway.sim.twilio import corrupt
from gateway.sim.twiml import check_stream_url

__all__ = ["CONTENT_TYPES", "XML_REFUSED", "PlivoDialect"]

XML_REFUSED = 8011
CONTENT_TYPES = {
    "audio/x-mulaw;rate=8000": (Encoding.MULAW, 8_000),
    "audio/x-l16;rate=8000": (Encoding.L16, 8_000),
    "audio/x-l16;rate=16000": (Encoding.L16, 16_000),
}
_HEADER = re.compile(r"[A-Za-z0-9]+=[A-Za-z0-9]*")
_MAX_HEADERS = 512


def _nonce() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(20))


def _refuse(reason: str) -> AnswerRefusedError:
    return AnswerRefusedError(XML_REFUSED, reason)


def _extra_headers(raw: str) -> tuple[tuple[str, str], ...]:
    if len(raw.encode()) > _MAX_HEADERS:
        raise _refuse(f"extraHeaders longer than {_MAX_HEADERS} bytes")
    pairs = [item for item in raw.split(",") if item]
    if not all(_HEADER.fullmatch(item) for item in pairs):
        raise _refuse("extraHeaders must be k=v pairs of [A-Za-z0-9] only")
    return tuple((k, v) for k, _, v in (item.partition("=") for item in pairs))


class PlivoDialect:
    """The `CarrierDialect` for a Plivo application answering with `<Stream>`."""

    name = "plivo"
    webhook_path = "/plivo/voice"

    def __init__(self) -> None:
        self.content_type = "audio/x-l16;rate=8000"
        """The stream's audio as the last answer asked for it."""

    def webhook(self, base_url: str, options: SimOptions) -> WebhookRequest:
        url = base_url.rstrip("/") + self.webhook_path
        form = {
            "CallUUID": options.call_sid,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "Event": "StartApp",
            "From": options.from_number.lstrip("+"),
            "To": options.to_number.lstrip("+"),
            "ParentAuthID": options.account_sid,
            **options.extra_webhook_fields,
        }
        return self._signed_form(url, form, options)

    def action_request(self, url: str, options: SimOptions) -> WebhookRequest:
        """The `<Redirect>` after the stream once it disconnected (`keepCallAlive`): the call's
        form with `CallStatus=in-progress`, signed (V3) over `url`."""
        form = {
            "CallUUID": options.call_sid,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "Event": "Redirect",
            "From": options.from_number.lstrip("+"),
            "To": options.to_number.lstrip("+"),
            "ParentAuthID": options.account_sid,
        }
        return self._signed_form(url, form, options)

    def _signed_form(self, url: str, form: dict[str, str], options: SimOptions) -> WebhookRequest:
        headers = [
            ("User-Agent", "PlivoHTTP/1.0"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ]
        if options.sign_webhook and options.auth_token is not None:
            nonce = _nonce()
            signature = compute_signature("POST", url, form.items(), nonce, options.auth_token)
            if options.corrupt_signature:
                signature = corrupt(signature)
            headers += [(SIGNATURE_HEADER, signature), (NONCE_HEADER, nonce)]
        body = urlencode(form).encode("ascii")
        return WebhookRequest(url, tuple(form.items()), tuple(headers), body=body)

    def parse_answer(self, body: str) -> StreamAnswer:
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise _refuse(f"XML is not well-formed: {exc}") from None
        if root.tag != "Response":
            raise _refuse(f"the root must be <Response>, got <{root.tag}>")
        verbs = list(root)
        index = next((i for i, e in enumerate(verbs) if e.tag == "Stream"), None)
        describe = [Verb(e.tag, " ".join("".join(e.itertext()).split())) for e in verbs]
        end = len(verbs) if index is None else index
        if index is None or any(e.tag in ("Hangup", "Redirect") for e in verbs[:end]):
            return StreamAnswer(None, (), tuple(describe[:end]), ())
        stream = verbs[index]
        url = (stream.text or "").strip()
        check_stream_url(url, allow_query=True)
        if stream.get("bidirectional") != "true":
            raise _refuse("a stream the gateway answers on must be bidirectional='true'")
        if stream.get("audioTrack", "inbound") != "inbound":
            raise _refuse("a bidirectional stream takes only audioTrack='inbound'")
        content_type = stream.get("contentType", "audio/x-l16;rate=8000")
        if content_type not in CONTENT_TYPES:
            raise _refuse(f"unknown contentType {content_type!r}")
        self.content_type = content_type
        parameters = _extra_headers(stream.get("extraHeaders", ""))
        attributes = tuple(sorted(stream.attrib.items()))
        before, after = tuple(describe[:index]), tuple(describe[index + 1 :])
        return StreamAnswer(url, parameters, before, after, attributes)

    def upgrade_headers(self, stream_url: str, options: SimOptions) -> list[tuple[str, str]]:
        headers = [("User-Agent", "Plivo-Stream/1.0")]
        if options.sign_upgrade and options.auth_token is not None:
            nonce = _nonce()
            signature = compute_signature("GET", stream_url, None, nonce, options.auth_token)
            if options.corrupt_signature:
                signature = corrupt(signature)
            headers += [(SIGNATURE_HEADER, signature), (NONCE_HEADER, nonce)]
        return headers

    def new_stream(self, options: SimOptions) -> PlivoStream:
        encoding, rate_hz = CONTENT_TYPES[self.content_type]
        encoding_name = self.content_type.partition(";")[0]
        return PlivoStream(
            options.account_sid,
            options.call_sid,
            str(uuid.uuid4()),
            encoding_name,
            StreamCodec(encoding, rate_hz),
        )

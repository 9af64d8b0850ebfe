"""Vonage as a caller of the gateway: the signed answer webhook, the NCCO, the media websocket.

protocols.md C.3. The answer webhook is a GET with `to`, `from`, `uuid`, `conversation_uuid`
and `region_url` as query parameters (Vonage's default `answer_method`), signed as a Voice API
signed webhook: `Authorization: Bearer <JWT>`, HS256 under the signature secret
(`SimOptions.auth_token`), with `payload_hash` over the query as a compact JSON object. The
answer is an NCCO (a JSON array): its `connect` action to a `websocket` endpoint opens the
stream, with the endpoint's `content-type` (L16 at 8, 16 or 24 kHz) and `headers` (at most 512
bytes); `talk` actions before it are recorded, not spoken. Vonage signs no websocket upgrade.
Stream messages are `gateway.sim.vonage_stream`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from gateway.audio.paths import Encoding
from gateway.carriers.vonage.ncco import MAX_HEADER_BYTES
from gateway.carriers.vonage.signature import sign_webhook
from gateway.carriers.vonage.translator import rate_of_content_type
from gateway.sim.codecs import StreamCodec
from gateway.sim.dialect import AnswerRefusedError, StreamAnswer, Verb, WebhookRequest
from gateway.sim.script import SimOptions
from gateway.sim.twilio import corrupt
from gateway.sim.vonage_stream import VonageStream

__all__ = ["NCCO_ERROR", "VonageDialect", "parse_ncco"]

NCCO_ERROR = 400
"""Ours: Vonage reports a bad NCCO in the call's event webhook, without a documented code."""
_LOOPBACK = ("127.", "localhost", "[::1]")


def _refuse(reason: str) -> AnswerRefusedError:
    return AnswerRefusedError(NCCO_ERROR, reason)


def _verb(action: dict[str, Any]) -> Verb:
    kind = str(action.get("action", "?"))
    text = action.get("text") if isinstance(action.get("text"), str) else ""
    attributes = tuple((k, json.dumps(v)) for k, v in action.items() if k not in ("action", "text"))
    return Verb(kind, str(text), attributes)


def _websocket(action: dict[str, Any]) -> dict[str, Any] | None:
    endpoints = action.get("endpoint")
    if action.get("action") != "connect" or not isinstance(endpoints, list):
        return None
    sockets = [e for e in endpoints if isinstance(e, dict) and e.get("type") == "websocket"]
    return sockets[0] if sockets else None


def _check_uri(uri: object) -> str:
    if not isinstance(uri, str):
        raise _refuse("websocket endpoint without a uri")
    parts = urlsplit(uri)
    loopback = parts.netloc.split("@")[-1].startswith(_LOOPBACK)
    if not parts.netloc or not (parts.scheme == "wss" or (parts.scheme == "ws" and loopback)):
        raise _refuse(f"websocket uri must be wss:// (ws:// on loopback only): {uri!r}")
    return uri


def parse_ncco(body: str) -> tuple[StreamAnswer, int]:
    """The stream an NCCO asks for and its sample rate; raises `AnswerRefusedError`."""
    try:
        ncco = json.loads(body)
    except ValueError:
        raise _refuse("the answer is not JSON") from None
    if not isinstance(ncco, list) or not all(isinstance(a, dict) for a in ncco):
        raise _refuse("an NCCO is a JSON array of action objects")
    for index, action in enumerate(ncco):
        endpoint = _websocket(action)
        if endpoint is None:
            continue
        uri = _check_uri(endpoint.get("uri"))
        rate_hz = rate_of_content_type(endpoint.get("content-type"))
        if rate_hz is None:
            raise _refuse(f"unsupported content-type {endpoint.get('content-type')!r}")
        headers = endpoint.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise _refuse("websocket headers must be an object of strings (ours: flattened)")
        if len(json.dumps(headers, separators=(",", ":")).encode()) > MAX_HEADER_BYTES:
            raise _refuse(f"websocket headers exceed {MAX_HEADER_BYTES} bytes")
        before = tuple(_verb(a) for a in ncco[:index])
        after = tuple(_verb(a) for a in ncco[index + 1 :])
        return StreamAnswer(uri, tuple(headers.items()), before, after), rate_hz
    return StreamAnswer(None, before=tuple(_verb(a) for a in ncco)), 0


class VonageDialect:
    """The `CarrierDialect` for a Vonage Voice API application answering with an NCCO."""

    name = "vonage"
    webhook_path = "/vonage/voice"

    def __init__(
        self, *, answer_flushed: bool = False, clock_s: Callable[[], float] = time.time
    ) -> None:
        self.answer_flushed = answer_flushed
        """Answer the notifies a clear flushed (Vonage's behaviour is undocumented)."""
        self._clock_s = clock_s
        self.codec = StreamCodec(Encoding.L16, 16_000)
        """The stream's audio as the last answer asked for it (L16 at its rate)."""

    def webhook(self, base_url: str, options: SimOptions) -> WebhookRequest:
        url = base_url.rstrip("/") + self.webhook_path
        query = [
            ("to", options.to_number.removeprefix("+")),
            ("from", options.from_number.removeprefix("+")),
            ("uuid", options.call_sid),
            ("conversation_uuid", "CON-" + str(uuid.uuid4())),
            ("region_url", "https://api-us-3.vonage.com"),
            *options.extra_webhook_fields.items(),
        ]
        headers = [("User-Agent", "Vonage-Voice-Webhook/1.0"), ("Accept", "application/json")]
        if options.sign_webhook and options.auth_token is not None:
            header = sign_webhook(options.auth_token, self._clock_s(), query=query)
            if options.corrupt_signature:  # a well-formed JWT whose signature is wrong
                head, _, signature = header.rpartition(".")
                header = f"{head}.{corrupt(signature)}"
            headers.append(("Authorization", header))
        return WebhookRequest(url, tuple(query), tuple(headers), method="GET")

    def parse_answer(self, body: str) -> StreamAnswer:
        answer, rate_hz = parse_ncco(body)
        if answer.stream_url is not None and rate_hz != self.codec.rate_hz:
            # Built now, before the stream opens: a resampler's filter design takes a moment.
            self.codec = StreamCodec(Encoding.L16, rate_hz)
        return answer

    def upgrade_headers(self, stream_url: str, options: SimOptions) -> list[tuple[str, str]]:
        return []  # Vonage signs no websocket upgrade (protocols.md C.3)

    def new_stream(self, options: SimOptions) -> VonageStream:
        return VonageStream(options.call_sid, self.codec, answer_flushed=self.answer_flushed)

"""Exotel as a caller of the gateway: the Voicebot applet's dynamic URL, then the media stream.

protocols.md C.4. The Voicebot applet's URL is the gateway's HTTPS endpoint: Exotel GETs it with
the call's details as query parameters (`CallSid`, `CallFrom`, `CallTo`, `Direction`, ... as its
other applets' dynamic URLs do [unverified for the Voicebot]) and Basic credentials (the
`user:password@` of the applet URL: `SimOptions.account_sid` and `auth_token`). The answer is
JSON `{"url": "wss://user:password@host/path?sample-rate=N&..."}`: Exotel connects there, sending
the URL's credentials as `Authorization: Basic` (not in the URL), at the URL's sample rate.
Stream messages are `gateway.sim.exotel_stream`.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from gateway.audio.paths import Encoding
from gateway.carriers.exotel.auth import MAX_PARAMETER_CHARS
from gateway.carriers.exotel.translator import RATE_PARAMETER, SUPPORTED_RATES_HZ
from gateway.sim.codecs import StreamCodec
from gateway.sim.dialect import AnswerRefusedError, StreamAnswer, WebhookRequest
from gateway.sim.exotel_stream import ExotelStream
from gateway.sim.script import SimOptions
from gateway.sim.twilio import corrupt

__all__ = ["ANSWER_ERROR", "ExotelDialect", "basic_header"]

ANSWER_ERROR = 502
"""Ours: the applet fails the call (and the flow goes on) when the answer is unusable."""
_LOOPBACK = ("127.", "localhost", "[::1]")


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _refuse(reason: str) -> AnswerRefusedError:
    return AnswerRefusedError(ANSWER_ERROR, reason)


class ExotelDialect:
    """The `CarrierDialect` for an Exotel flow whose Voicebot applet has a dynamic URL."""

    name = "exotel"
    webhook_path = "/exotel/voice"

    def __init__(self, *, legacy_format: bool = False) -> None:
        self.legacy_format = legacy_format
        """Send the older `start` form (`"encoding": "base64"`, `"bit_rate": "128kbps"`)."""
        self.codec = StreamCodec(Encoding.L16, 8_000)
        """The stream's audio as the last answer asked for it."""
        self.credentials: tuple[str, str] | None = None
        """The `user:password@` of the last answer's URL."""

    def webhook(self, base_url: str, options: SimOptions) -> WebhookRequest:
        query = [
            ("CallSid", options.call_sid),
            ("CallFrom", options.from_number),
            ("CallTo", options.to_number),
            ("Direction", "incoming"),
            ("CallStatus", "in-progress"),
            *options.extra_webhook_fields.items(),
        ]
        headers = [("User-Agent", "Exotel/1.0"), ("Accept", "application/json")]
        if options.sign_webhook and options.auth_token is not None:
            password = (
                corrupt(options.auth_token) if options.corrupt_signature else options.auth_token
            )
            headers.append(("Authorization", basic_header(options.account_sid, password)))
        url = base_url.rstrip("/") + self.webhook_path
        return WebhookRequest(url, tuple(query), tuple(headers), method="GET")

    def parse_answer(self, body: str) -> StreamAnswer:
        try:
            answer = json.loads(body)
        except ValueError:
            raise _refuse("the answer is not JSON") from None
        url = answer.get("url") if isinstance(answer, dict) else None
        if not isinstance(url, str):
            raise _refuse('the answer has no "url" string')
        parts = urlsplit(url)
        host = parts.hostname or ""
        loopback = host.startswith(_LOOPBACK) or host in ("localhost", "::1")
        if not host or not (parts.scheme == "wss" or (parts.scheme == "ws" and loopback)):
            raise _refuse(f"stream URL must be wss:// (ws:// on loopback only): {url!r}")
        if len(parts.query) > MAX_PARAMETER_CHARS:
            raise _refuse("the stream URL's custom parameters exceed 256 characters")
        parameters = tuple(parse_qsl(parts.query, keep_blank_values=True))
        rate = dict(parameters).get(RATE_PARAMETER, "8000")
        if not rate.isdigit() or int(rate) not in SUPPORTED_RATES_HZ:
            raise _refuse(f"unsupported {RATE_PARAMETER} {rate!r}")
        self.credentials = None
        if parts.username is not None:
            self.credentials = (unquote(parts.username), unquote(parts.password or ""))
        if int(rate) != self.codec.rate_hz:
            self.codec = StreamCodec(Encoding.L16, int(rate))  # before the stream opens
        netloc = host if parts.port is None else f"{host}:{parts.port}"
        stream_url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        return StreamAnswer(stream_url, parameters)

    def upgrade_headers(self, stream_url: str, options: SimOptions) -> list[tuple[str, str]]:
        if self.credentials is None or not options.sign_upgrade:
            return []
        user, password = self.credentials
        if options.corrupt_signature:
            password = corrupt(password)
        return [("Authorization", basic_header(user, password))]

    def new_stream(self, options: SimOptions) -> ExotelStream:
        return ExotelStream(
            options.account_sid, options.call_sid, self.codec, legacy_format=self.legacy_format
        )

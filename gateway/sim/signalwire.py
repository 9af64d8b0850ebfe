"""SignalWire (cXML) as a caller of the gateway: Twilio's dialect with SignalWire's signing and
codecs.

protocols.md C.5. The webhook is Twilio's inbound-call form, signed with the project's Signing
Key (`SimOptions.auth_token`) by scheme B (Twilio's algorithm, base64 HMAC-SHA1), sent as both
`X-SignalWire-Signature` and `X-Twilio-Signature`. The answer is cXML, read by the strict TwiML
reader; the `<Stream>`'s `codec` (`PCMU@8000h` by default, `PCMA`, `L16@8000h|16000h|24000h`)
sets the stream's `mediaFormat` and payloads, and its `authBearerToken` is presented as
`Authorization: Bearer` on the handshake. The upgrade is also signed as Twilio signs it (whether
SignalWire does is not verified; the gateway only logs it). Messages are `TwilioStream`'s.
"""

from __future__ import annotations

from gateway.audio.paths import Encoding
from gateway.carriers.signalwire.signature import compute_signature
from gateway.carriers.signalwire.translator import codec_format
from gateway.sim.codecs import StreamCodec
from gateway.sim.dialect import AnswerRefusedError, StreamAnswer, WebhookRequest
from gateway.sim.script import SimOptions
from gateway.sim.twilio import TwilioDialect, corrupt, new_stream_sid
from gateway.sim.twilio_stream import TwilioStream

__all__ = ["ENCODING_NAMES", "SignalWireDialect"]

ENCODING_NAMES = {
    Encoding.MULAW: "audio/x-mulaw",
    Encoding.ALAW: "audio/x-alaw",
    Encoding.L16: "audio/x-l16",
}
"""`start.mediaFormat.encoding` per codec (the L16 spelling is ours: not documented)."""
_HEADERS = ("X-SignalWire-Signature", "X-Twilio-Signature")


class SignalWireDialect:
    """The `CarrierDialect` for a SignalWire cXML application with `<Connect><Stream>`."""

    name = "signalwire"
    webhook_path = "/signalwire/voice"

    def __init__(self, *, big_endian: bool = False) -> None:
        self._twilio = TwilioDialect()
        self.big_endian = big_endian
        """Send and read L16 in network byte order."""
        self.codec = "PCMU@8000h"
        self.bearer: str | None = None

    def _signed(self, url: str, form: dict[str, str] | None, options: SimOptions) -> list[str]:
        if options.auth_token is None:
            return []
        signature = compute_signature(url, (form or {}).items(), options.auth_token)
        return [corrupt(signature) if options.corrupt_signature else signature]

    def webhook(self, base_url: str, options: SimOptions) -> WebhookRequest:
        twilio = self._twilio.webhook(base_url, options)
        url = base_url.rstrip("/") + self.webhook_path
        form = dict(twilio.form)
        headers = [(k, v) for k, v in twilio.headers if k != "X-Twilio-Signature"]
        headers[0] = ("User-Agent", "SignalWire-LaML/1.0")
        if options.sign_webhook:
            headers += [(name, s) for s in self._signed(url, form, options) for name in _HEADERS]
        return WebhookRequest(url, twilio.form, tuple(headers))

    def action_request(self, url: str, options: SimOptions) -> WebhookRequest:
        """cXML's `<Connect action>`, as Twilio's, signed with the project's signing key."""
        twilio = self._twilio.action_request(url, options)
        form = dict(twilio.form)
        headers = [(k, v) for k, v in twilio.headers if k != "X-Twilio-Signature"]
        headers[0] = ("User-Agent", "SignalWire-LaML/1.0")
        if options.sign_webhook:
            headers += [(name, s) for s in self._signed(url, form, options) for name in _HEADERS]
        return WebhookRequest(url, twilio.form, tuple(headers))

    def parse_answer(self, body: str) -> StreamAnswer:
        answer = self._twilio.parse_answer(body)
        attributes = dict(answer.attributes)
        codec = attributes.get("codec", "PCMU@8000h")
        try:
            codec_format(codec)
        except ValueError:
            raise AnswerRefusedError(12200, f"unknown <Stream> codec {codec!r}") from None
        self.codec, self.bearer = codec, attributes.get("authBearerToken")
        return answer

    def upgrade_headers(self, stream_url: str, options: SimOptions) -> list[tuple[str, str]]:
        headers = [("User-Agent", "SignalWire-MediaStreams/1.0")]
        if self.bearer is not None:
            headers.append(("Authorization", f"Bearer {self.bearer}"))
        if options.sign_upgrade:
            headers += [
                ("X-SignalWire-Signature", s) for s in self._signed(stream_url, None, options)
            ]
        return headers

    def new_stream(self, options: SimOptions) -> TwilioStream:
        media_format = codec_format(self.codec)
        codec = StreamCodec(media_format.encoding, media_format.rate_hz, big_endian=self.big_endian)
        return TwilioStream(
            options.account_sid,
            options.call_sid,
            new_stream_sid(),
            codec=codec,
            encoding=ENCODING_NAMES[media_format.encoding],
        )

"""The toy carrier as a caller of the gateway (the simulator's dialect for it)."""

from __future__ import annotations

import base64
import json
import secrets

import numpy as np
import numpy.typing as npt

from gateway.audio.paths import Encoding
from gateway.sim.checks import event_name
from gateway.sim.codecs import StreamCodec
from gateway.sim.dialect import (
    AnswerRefusedError,
    GatewayClear,
    GatewayCommand,
    GatewayMark,
    GatewayMedia,
    ProtocolViolation,
    StreamAnswer,
    Verb,
    WebhookRequest,
)
from gateway.sim.script import SimOptions

__all__ = ["PROTOCOL_ERROR", "ToyDialect", "ToyStream"]

PROTOCOL_ERROR = 4000


class ToyStream:
    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.stream_sid = "TS" + secrets.token_hex(8)
        self.codec = StreamCodec(Encoding.MULAW)

    def opening(self, parameters: tuple[tuple[str, str], ...]) -> list[str]:
        token = dict(parameters).get("token", "")
        hello = {"type": "hello", "call": self.call_id, "stream": self.stream_sid, "token": token}
        return [json.dumps(hello)]

    def media(self, payload: bytes, timestamp_ms: int) -> str:
        return json.dumps({"type": "audio", "data": base64.b64encode(payload).decode("ascii")})

    def dtmf(self, digit: str) -> str:
        return json.dumps({"type": "key", "digit": digit})

    def mark_echo(self, name: str) -> str:
        return json.dumps({"type": "played", "name": name})

    def stop(self) -> str:
        return json.dumps({"type": "bye"})

    def encode_audio(self, samples: npt.NDArray[np.int16]) -> bytes:
        return self.codec.encode(samples)

    def parse_gateway(self, message: str | bytes) -> GatewayCommand | ProtocolViolation:
        try:
            data = json.loads(message)
        except ValueError:
            return ProtocolViolation(PROTOCOL_ERROR, "not JSON")
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "audio":
            samples = self.codec.decode(base64.b64decode(str(data.get("data", ""))))
            if samples is None:
                return ProtocolViolation(PROTOCOL_ERROR, "bad audio")
            return GatewayMedia(samples)
        if kind == "mark" and isinstance(data.get("name"), str):
            return GatewayMark(data["name"])
        if kind == "clear":
            return GatewayClear()
        return ProtocolViolation(PROTOCOL_ERROR, f"unknown message {kind!r}")

    def event_name(self, message: str | bytes) -> str:
        return event_name(message)


class ToyDialect:
    name = "toy"
    webhook_path = "/toy/voice"

    def webhook(self, base_url: str, options: SimOptions) -> WebhookRequest:
        fields = {"call": options.call_sid, "from": options.from_number, "to": options.to_number}
        headers = [("Content-Type", "application/json")]
        if options.sign_webhook and options.auth_token is not None:
            secret = options.auth_token + ("x" if options.corrupt_signature else "")
            headers.append(("X-Toy-Secret", secret))
        body = json.dumps(fields).encode()
        url = base_url.rstrip("/") + self.webhook_path
        return WebhookRequest(url, tuple(fields.items()), tuple(headers), body=body)

    def parse_answer(self, body: str) -> StreamAnswer:
        try:
            answer = json.loads(body)
        except ValueError:
            raise AnswerRefusedError(PROTOCOL_ERROR, "the answer is not JSON") from None
        if not isinstance(answer, dict):
            raise AnswerRefusedError(PROTOCOL_ERROR, "the answer is not an object")
        if "refused" in answer:
            after = [Verb("Say", str(answer["refused"]))]
            if answer.get("transfer"):
                after.append(Verb("Dial", str(answer["transfer"])))
            return StreamAnswer(None, after=tuple(after))
        stream, token = answer.get("stream"), answer.get("token")
        if not isinstance(stream, str) or not isinstance(token, str):
            raise AnswerRefusedError(PROTOCOL_ERROR, "no stream or token")
        return StreamAnswer(stream, parameters=(("token", token),))

    def upgrade_headers(self, stream_url: str, options: SimOptions) -> list[tuple[str, str]]:
        return [("User-Agent", "Toy/1.0")]

    def new_stream(self, options: SimOptions) -> ToyStream:
        return ToyStream(options.call_sid)

"""`place_call` end to end against a tiny fake gateway on loopback (Starlette under uvicorn).

The fake answers TwiML and, on the socket, echoes the caller's audio back in batches, each batch
followed by a mark; in `clear` mode it queues one long batch and then clears it. Assertions are
about order, counts and content, never timings.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import numpy as np
import numpy.typing as npt
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from gateway.audio import g711
from gateway.sim import CallOutcome, CallScript, DtmfPress, SimOptions, Utterance, place_call
from gateway.sim.analysis import speech_segments
from gateway.sim.cli import add_call_arguments, run_call
from gateway.sim.timeline import format_timeline
from gateway.sim.wav import read_wav, write_pcm16_wav, write_wav

TOKEN = "test-auth-token"
BATCH_FRAMES = 25  # the fake echoes every 0.5 s of caller audio
SPEED = 20.0


@dataclass
class FakeGateway:
    mode: str = "echo"
    port: int = 0
    webhook_forms: list[dict[str, str]] = field(default_factory=list)
    webhook_valid: list[bool] = field(default_factory=list)
    upgrade_valid: list[bool] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    caller_ulaw: bytearray = field(default_factory=bytearray)

    @property
    def stream_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/twilio/media"

    async def voice(self, request: Request) -> Response:
        # Parsed by hand: Starlette's form parser needs python-multipart, not a dependency.
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        self.webhook_forms.append(form)
        validator = RequestValidator(TOKEN)
        signature = request.headers.get("X-Twilio-Signature", "")
        self.webhook_valid.append(validator.validate(str(request.url), form, signature))
        if self.mode == "status500":
            return PlainTextResponse("boom", status_code=500)
        if self.mode == "say":
            twiml = "<Response><Say>We are busy.</Say><Hangup/></Response>"
        else:
            url = self.stream_url + ("?token=t1" if self.mode == "query" else "")
            twiml = (
                f'<Response><Connect><Stream url="{url}">'
                '<Parameter name="token" value="t-123"/><Parameter name="tenant" value="acme"/>'
                "</Stream></Connect><Say>Goodbye</Say></Response>"
            )
        return Response(twiml, media_type="text/xml")

    async def media(self, ws: WebSocket) -> None:
        signature = ws.headers.get("x-twilio-signature", "")
        self.upgrade_valid.append(RequestValidator(TOKEN).validate(self.stream_url, {}, signature))
        if self.mode == "refuse":
            await ws.close(1008)  # before accept: Starlette answers the upgrade with HTTP 403
            return
        await ws.accept()
        sid = ""
        batch: list[str] = []
        batches = 0
        # The simulator closes right after `stop`; a send racing that close is not an error here.
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            while True:
                message = json.loads(await ws.receive_text())
                self.received.append(message)
                event = message["event"]
                if event == "start":
                    sid = message["streamSid"]
                    if self.mode == "binary":
                        await ws.send_bytes(b"\x00\x01")
                    if self.mode == "riff":
                        payload = base64.b64encode(b"RIFF\x24\x00\x00\x00WAVE").decode()
                        await ws.send_text(_media(sid, payload))
                if event == "stop":
                    break
                if event != "media":
                    continue
                self.caller_ulaw += base64.b64decode(message["media"]["payload"])
                batch.append(message["media"]["payload"])
                if len(batch) < BATCH_FRAMES:
                    continue
                batches += 1
                if self.mode == "hangup" and batches == 3:
                    await ws.close(1000)
                    return
                # clear mode: batch 3 (caller burst 1) is queued 8 times over (4 s), and the
                # clear comes with batch 5, while the caller's burst 2 talks over the copies.
                if self.mode == "clear" and batches == 5:
                    await ws.send_text(json.dumps({"event": "clear", "streamSid": sid}))
                copies = 8 if self.mode == "clear" and batches == 3 else 1
                for payload in batch * copies:
                    await ws.send_text(_media(sid, payload))
                await ws.send_text(
                    json.dumps({"event": "mark", "streamSid": sid, "mark": {"name": f"b{batches}"}})
                )
                batch = []


def _media(sid: str, payload: str) -> str:
    return json.dumps({"event": "media", "streamSid": sid, "media": {"payload": payload}})


@contextlib.asynccontextmanager
async def serve(fake: FakeGateway) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    fake.port = sock.getsockname()[1]
    app = Starlette(
        routes=[
            Route("/twilio/voice", fake.voice, methods=["POST"]),
            WebSocketRoute("/twilio/media", fake.media),
        ]
    )
    config = uvicorn.Config(
        app, ws="websockets-sansio", log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn's readiness is only a flag
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{fake.port}"
    finally:
        server.should_exit = True
        async with asyncio.timeout(10):
            await task
        sock.close()


def tone_bursts(count: int = 3) -> npt.NDArray[np.int16]:
    """`count` 0.3 s bursts of 440 Hz at -20 dBFS, each followed by 0.7 s of silence."""
    t = np.arange(2400) / 8000
    burst = (3277 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    gap = np.zeros(5600, dtype=np.int16)
    return np.concatenate([np.concatenate([burst, gap]) for _ in range(count)])


def script(count: int = 3, **kwargs: Any) -> CallScript:
    utterances = tuple(Utterance(1000.0 * i, 1000.0 * i + 300, f"burst {i}") for i in range(count))
    # 4.3 s: the stream stops between two of the fake's batches, not while it is echoing one.
    return CallScript(tone_bursts(count), utterances=utterances, tail_ms=1300, **kwargs)


def options(**kwargs: Any) -> SimOptions:
    return SimOptions(auth_token=TOKEN, speed=SPEED, **kwargs)


async def test_echo_call_hears_the_caller_marks_echo_and_the_stream_ends_cleanly() -> None:
    fake = FakeGateway("echo")
    call = script(dtmf=(DtmfPress(2600, "5"),))
    async with serve(fake) as base_url:
        report = await place_call(base_url, call, options())

    assert report.outcome is CallOutcome.COMPLETED
    assert report.ok
    assert report.webhook_status == 200
    assert fake.webhook_valid == [True]
    assert fake.upgrade_valid == [True]
    assert report.custom_parameters == {"token": "t-123", "tenant": "acme"}
    # What Twilio sends, in order: connected, start, media..., dtmf among the media, stop.
    events = [m["event"] for m in fake.received]
    assert events[:2] == ["connected", "start"]
    assert events[-1] == "stop"
    assert events.count("dtmf") == 1
    assert "sequenceNumber" not in fake.received[0]
    numbers = [int(m["sequenceNumber"]) for m in fake.received[1:]]
    assert numbers == list(range(1, len(numbers) + 1))
    chunks = [int(m["media"]["chunk"]) for m in fake.received if m["event"] == "media"]
    assert chunks == list(range(1, len(chunks) + 1))
    assert len(chunks) == report.media_frames_sent == len(report.said) // 160
    # The caller audio arrived intact (μ-law round trip).
    sent = g711.pcm16_samples(g711.ulaw_decode(bytes(fake.caller_ulaw)))
    assert np.array_equal(
        sent,
        g711.pcm16_samples(g711.ulaw_decode(g711.ulaw_encode(report.said.astype("<i2").tobytes()))),
    )
    # Every batch was echoed; each mark came back as played, in order.
    assert [m.name for m in report.marks] == [f"b{i}" for i in range(1, len(report.marks) + 1)]
    assert len(report.marks) >= 5
    assert all(m.played for m in report.marks[:-1])
    assert report.clears == ()
    # The heard audio holds the three bursts, each after the caller said it.
    heard = speech_segments(report.heard)
    assert len(heard) == 3
    for said, echoed in zip(report.caller_utterances, heard, strict=True):
        assert echoed.start_ms > said.start_ms
    assert report.answer_latency_ms is not None
    assert report.barge_ins == ()
    assert len(report.said) == len(report.heard)
    assert report.dtmf == (DtmfPress(2600, "5"),)
    assert report.close is not None
    assert report.close.by == "simulator"
    assert report.close.code == 1000
    text = format_timeline(report)
    assert "caller: burst 0" in text
    assert "sent.dtmf" in text
    assert "sent.stop" in text


async def test_clear_drops_queued_audio_and_flushes_pending_marks_in_order() -> None:
    fake = FakeGateway("clear")
    async with serve(fake) as base_url:
        # In real time: which bursts overlap the echoes depends on when they play, and at 20x
        # a 15 ms stall of a busy machine moves an echo by 300 ms of call.
        report = await place_call(base_url, script(), SimOptions(auth_token=TOKEN, speed=1.0))

    assert report.outcome is CallOutcome.COMPLETED
    assert report.ok
    names = [m.name for m in report.marks]
    assert names == [f"b{i}" for i in range(1, len(names) + 1)]
    played = {m.name: m.played for m in report.marks}
    assert played["b1"] is True
    assert played["b2"] is True
    assert played["b3"] is False
    assert played["b4"] is False
    assert played["b5"] is True  # sent after the clear
    assert len(report.clears) == 1
    clear = report.clears[0]
    assert clear.flushed_marks == 2
    assert clear.dropped_ms > 2000  # most of the 4 s never played
    flushed = [m for m in report.marks if m.played is False]
    assert all(m.echoed_ms == m.due_ms == clear.at_ms for m in flushed)
    # The caller's burst 2 started while the copies played, and the clear stopped them. (Burst
    # 1 starts 200 ms after burst 0's echo went quiet: it counts too when the fake's echoes
    # happened to play back to back up to the clear, which depends on the machine's load.)
    late = [b for b in report.barge_ins if b.at_ms >= 1500]
    assert len(late) == 1
    assert [b.text for b in report.barge_ins] in (["burst 2"], ["burst 1", "burst 2"])
    barge = late[0]
    assert barge.at_ms == 2000
    assert barge.cleared
    assert barge.text == "burst 2"
    kinds = [(e.kind, e.detail) for e in report.timeline]
    clear_at = kinds.index(next(k for k in kinds if k[0] == "received.clear"))
    assert kinds[clear_at + 1 : clear_at + 3] == [
        ("sent.mark", "b3 (flushed by clear)"),
        ("sent.mark", "b4 (flushed by clear)"),
    ]
    # Dropped audio was never heard: about 3 of the 4 s of copies are missing.
    assert report.heard_ms < 4000


async def test_gateway_hang_up_ends_the_call_and_the_twiml_after_connect_runs() -> None:
    fake = FakeGateway("hangup")
    async with serve(fake) as base_url:
        report = await place_call(base_url, script(), options())

    assert report.outcome is CallOutcome.GATEWAY_CLOSED
    assert report.ok
    assert report.close is not None
    assert report.close.by == "gateway"
    assert report.close.code == 1000
    assert report.media_frames_sent < 215
    assert "stop" not in [m["event"] for m in fake.received]
    assert ("twiml.after", "<Say> Goodbye") in [(e.kind, e.detail) for e in report.timeline]
    assert len(report.said) == len(report.heard)


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("binary", "binary frame"), ("riff", "WAV (RIFF) header")],
)
async def test_a_protocol_error_is_31924_and_the_carrier_closes_the_stream(
    mode: str, reason: str
) -> None:
    fake = FakeGateway(mode)
    async with serve(fake) as base_url:
        report = await place_call(base_url, script(), options())

    assert report.outcome is CallOutcome.PROTOCOL_ERROR
    assert not report.ok
    assert [e.code for e in report.errors] == [31924]
    assert reason in report.errors[0].reason
    assert report.close is not None
    assert report.close.by == "simulator"
    assert report.close.code == 1008
    assert "stop" not in [m["event"] for m in fake.received]
    assert report.messages_received[0].event in ("?", "media")


async def test_webhook_error_status_stops_before_any_stream() -> None:
    fake = FakeGateway("status500")
    async with serve(fake) as base_url:
        report = await place_call(base_url, script(), options())
    assert report.outcome is CallOutcome.WEBHOOK_FAILED
    assert report.webhook_status == 500
    assert report.twiml == "boom"
    assert fake.received == []
    assert fake.upgrade_valid == []
    assert report.stream_sid is None
    assert len(report.said) == 0


async def test_twiml_without_a_stream_is_reported_verb_by_verb() -> None:
    fake = FakeGateway("say")
    async with serve(fake) as base_url:
        report = await place_call(base_url, script(), options())
    assert report.outcome is CallOutcome.NO_STREAM
    assert not report.ok
    assert [(v.kind, v.text) for v in report.verbs_before] == [
        ("Say", "We are busy."),
        ("Hangup", ""),
    ]
    assert "no stream: <Say> We are busy.; <Hangup>" in format_timeline(report)


async def test_a_stream_url_with_a_query_string_is_refused_with_31920() -> None:
    fake = FakeGateway("query")
    async with serve(fake) as base_url:
        report = await place_call(base_url, script(), options())
    assert report.outcome is CallOutcome.TWIML_REFUSED
    assert [e.code for e in report.errors] == [31920]
    assert fake.upgrade_valid == []


async def test_a_refused_upgrade_is_31920() -> None:
    fake = FakeGateway("refuse")
    async with serve(fake) as base_url:
        report = await place_call(base_url, script(), options())
    assert report.outcome is CallOutcome.STREAM_REFUSED
    assert [e.code for e in report.errors] == [31920]
    assert "HTTP 403" in report.errors[0].reason
    assert fake.upgrade_valid == [True]


@pytest.mark.parametrize(
    ("changes", "webhook_valid", "upgrade_valid"),
    [
        ({"auth_token": None}, False, False),
        ({"corrupt_signature": True}, False, False),
        ({"sign_webhook": False}, False, True),
        ({"sign_upgrade": False}, True, False),
    ],
)
async def test_signature_toggles(
    changes: dict[str, Any], webhook_valid: bool, upgrade_valid: bool
) -> None:
    fake = FakeGateway("hangup")
    async with serve(fake) as base_url:
        await place_call(base_url, script(), dataclasses.replace(options(), **changes))
    assert fake.webhook_valid == [webhook_valid]
    assert fake.upgrade_valid == [upgrade_valid]


async def test_the_report_wav_is_said_left_and_heard_right(tmp_path: Path) -> None:
    fake = FakeGateway("echo")
    async with serve(fake) as base_url:
        report = await place_call(base_url, script(), options())
    path = tmp_path / "call.wav"
    write_wav(report, path)
    data = path.read_bytes()
    assert data[:4] == b"RIFF"
    wav = read_wav(path)
    assert wav.channels == 2
    assert wav.rate_hz == 8000
    assert len(wav.samples) == len(report.said)
    stereo = np.frombuffer(data[44:], "<i2").reshape(-1, 2)
    assert np.array_equal(stereo[:, 0], report.said)
    assert np.array_equal(stereo[:, 1], report.heard)


def cli_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_call_arguments(parser)
    return parser.parse_args(list(argv))


async def test_gateway_call_from_a_16_khz_wav_with_a_sidecar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The caller audio at 16 kHz: the CLI resamples it to 8 kHz with the gateway's resampler.
    audio = np.repeat(tone_bursts(3), 2)
    write_pcm16_wav(tmp_path / "call.wav", audio, 16_000)
    sidecar = {
        "utterances": [{"start_ms": 0, "end_ms": 300, "text": "first words"}],
        "dtmf": [{"at_ms": 1500, "digit": "9"}],
        "tail_ms": 1300,
    }
    (tmp_path / "call.json").write_text(json.dumps(sidecar))
    fake = FakeGateway("echo")
    async with serve(fake) as base_url:
        args = cli_args(
            str(tmp_path / "call.wav"),
            *("--url", base_url, "--auth-token", TOKEN, "--speed", str(SPEED)),
            *("--out", str(tmp_path / "heard.wav"), "--timeline", str(tmp_path / "t.txt")),
            *("--json", str(tmp_path / "report.json")),
        )
        status = await asyncio.to_thread(run_call, args)
    assert status == 0
    printed = capsys.readouterr().out
    assert "outcome: completed" in printed
    assert "caller: first words" in printed
    assert (tmp_path / "t.txt").read_text() == printed
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["ok"] is True
    assert report["dtmf"] == [{"at_ms": 1500, "digit": "9"}]
    assert report["said_samples"] == 4300 * 8
    assert [m["event"] for m in fake.received].count("dtmf") == 1
    wav = read_wav(tmp_path / "heard.wav")
    assert wav.channels == 2
    assert len(wav.samples) == 4300 * 8
    assert fake.webhook_valid == [True]


async def test_gateway_call_exit_status_for_an_answer_without_a_stream(tmp_path: Path) -> None:
    write_pcm16_wav(tmp_path / "a.wav", tone_bursts(1), 8000)
    async with serve(FakeGateway("say")) as base_url:
        status = await asyncio.to_thread(
            run_call, cli_args(str(tmp_path / "a.wav"), "--url", base_url)
        )
    assert status == 3


async def test_gateway_call_exit_status_for_a_protocol_error(tmp_path: Path) -> None:
    write_pcm16_wav(tmp_path / "a.wav", tone_bursts(1), 8000)
    async with serve(FakeGateway("riff")) as base_url:
        args = cli_args(str(tmp_path / "a.wav"), "--url", base_url, "--speed", str(SPEED))
        status = await asyncio.to_thread(run_call, args)
    assert status == 1

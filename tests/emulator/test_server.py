"""The emulator server on the wire: paths, keys, first message, frames, resumption, shutdown."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from gateway.emulator import EmulatorConfig, LiveEmulator, ReplyMode
from gateway.live.protocol import encode_audio, encode_setup
from gateway.live.setup import LiveConfig

SETUP = encode_setup(LiveConfig())


def run(
    body: Callable[[LiveEmulator], Awaitable[None]], config: EmulatorConfig | None = None
) -> LiveEmulator:
    async def main() -> LiveEmulator:
        async with LiveEmulator(config) as emulator:
            await body(emulator)
        return emulator

    return asyncio.run(main())


async def closed_with(ws: ClientConnection) -> tuple[int | None, str]:
    async def drain() -> None:
        async with asyncio.timeout(10):
            while True:
                await ws.recv()

    with pytest.raises(ConnectionClosed):
        await drain()
    return ws.close_code, ws.close_reason or ""


def host(emulator: LiveEmulator) -> str:
    return f"ws://127.0.0.1:{emulator.port}"


@pytest.mark.parametrize(
    "path",
    [
        "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent",
        "//ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained",
        "/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent?key=abc",
        "/live",
        "/",
    ],
)
def test_live_paths_answer_setup_complete_in_a_binary_frame(path: str) -> None:
    async def body(emulator: LiveEmulator) -> None:
        async with connect(host(emulator) + path) as ws:
            await ws.send(SETUP)
            frame = await ws.recv()
            assert frame == b'{"setupComplete":{}}'

    run(body)


def test_other_paths_are_404() -> None:
    async def body(emulator: LiveEmulator) -> None:
        with pytest.raises(InvalidStatus) as caught:
            async with connect(host(emulator) + "/ws/something.Else"):
                pass
        assert caught.value.response.status_code == 404

    emulator = run(body)
    assert emulator.recorder.refused == [(404, "/ws/something.Else")]


@pytest.mark.parametrize(
    ("query", "headers", "accepted"),
    [
        ("?key=good-key", {}, True),
        ("", {"x-goog-api-key": "good-key"}, True),
        ("", {"Authorization": "Bearer good-key"}, True),
        ("?access_token=good-key", {}, True),
        ("", {"x-goog-api-key": "bad-key"}, False),
        ("", {}, False),
    ],
)
def test_keys_from_query_or_headers(query: str, headers: dict[str, str], accepted: bool) -> None:
    async def body(emulator: LiveEmulator) -> None:
        async with connect(emulator.url + query, additional_headers=headers) as ws:
            await ws.send(SETUP)
            if accepted:
                assert await ws.recv() == b'{"setupComplete":{}}'
            else:
                assert await closed_with(ws) == (
                    1007,
                    "API key not valid. Please pass a valid API key.",
                )

    run(body, EmulatorConfig(api_keys=frozenset({"good-key"})))


@pytest.mark.parametrize(
    ("first", "code", "reason"),
    [
        (
            encode_audio(b"\x00\x00"),
            1007,
            "Request contains an invalid argument. The first message must be setup.",
        ),
        ("{oops", 1007, "Invalid JSON payload received."),
        (
            '{"setup":{"model":"models/m","responseModalities":["AUDIO"]}}',
            1007,
            "Invalid JSON payload received. Unknown name \"responseModalities\" at 'setup': "
            "Cannot find field.",
        ),
        ('{"setup":{}}', 1007, "Request contains an invalid argument. Missing model."),
        (
            '{"setup":{"model":"gemini-x"}}',
            1008,
            "gemini-x is not found for API version v1beta, or is not supported for "
            "bidiGenerateContent.",
        ),
        (
            '{"setup":{"model":"models/m","generation_config":{"response_modalities":["TEXT"]}}}',
            1007,
            "Request contains an invalid argument. This emulator speaks AUDIO only.",
        ),
        (
            '{"setup":{"model":"models/m","sessionResumption":{"handle":"forged"}}}',
            1008,
            "The session resumption handle is invalid or expired.",
        ),
    ],
)
def test_bad_first_messages_close_with_production_codes(first: str, code: int, reason: str) -> None:
    async def body(emulator: LiveEmulator) -> None:
        async with connect(emulator.url) as ws:
            await ws.send(first)
            assert await closed_with(ws) == (code, reason)

    emulator = run(body)
    assert emulator.recorder.refused == [(code, reason)]
    assert emulator.recorder.sessions == []


def test_snake_case_setup_and_messages_are_accepted() -> None:
    setup = {
        "setup": {
            "model": "models/m",
            "generation_config": {"response_modalities": ["AUDIO"]},
            "session_resumption": {},
            "realtime_input_config": {"automatic_activity_detection": {"silence_duration_ms": 300}},
        }
    }

    async def body(emulator: LiveEmulator) -> None:
        async with connect(emulator.url) as ws:
            await ws.send(json.dumps(setup))
            assert await ws.recv() == b'{"setupComplete":{}}'
            update = json.loads(await ws.recv())
            assert list(update) == ["sessionResumptionUpdate"]
            pcm = np.zeros(320, dtype="<i2").tobytes()
            audio = json.loads(encode_audio(pcm))["realtimeInput"]["audio"]
            await ws.send(
                json.dumps(
                    {
                        "realtime_input": {
                            "audio": {"mime_type": audio["mimeType"], "data": audio["data"]}
                        }
                    }
                )
            )
            await ws.send(json.dumps({"realtime_input": {"text": "hello"}}))
            await ws.close()

    emulator = run(body)
    (record,) = emulator.recorder.sessions
    assert record.kinds() == ["setup", "realtimeInput", "realtimeInput"]
    assert record.messages[1].body == {
        "audio": {"mimeType": "audio/pcm;rate=16000", "samples": 320}
    }
    assert record.texts == ["hello"]
    assert record.setups[0]["realtimeInputConfig"] == {
        "automaticActivityDetection": {"silenceDurationMs": 300}
    }
    assert record.closes == [(1, 1000, "")]


def test_a_second_setup_and_unknown_fields_mid_session_are_refused() -> None:
    async def body(emulator: LiveEmulator) -> None:
        async with connect(emulator.url) as ws:
            await ws.send(SETUP)
            await ws.recv()
            await ws.send('{"realtimeInput":{"audio":{"rate":1}}}')
            assert await closed_with(ws) == (
                1007,
                'Invalid JSON payload received. Unknown name "rate" at '
                "'realtime_input.audio': Cannot find field.",
            )
        async with connect(emulator.url) as ws:
            await ws.send(SETUP)
            await ws.recv()
            await ws.send(SETUP)
            assert await closed_with(ws) == (
                1007,
                "Request contains an invalid argument. Setup must be the first message only.",
            )

    run(body)


def test_resume_restores_the_session_and_stop_closes_open_connections() -> None:
    async def body(emulator: LiveEmulator) -> None:
        async with connect(emulator.url) as ws:
            await ws.send(SETUP)
            await ws.recv()
            await ws.send(encode_audio(tone(0.5) + bytes(2 * 9600)))
            handles: list[str] = []
            while len(handles) < 2:
                message: dict[str, Any] = json.loads(await ws.recv())
                update = message.get("sessionResumptionUpdate", {})
                if update.get("resumable"):
                    handles.append(update["newHandle"])
        resume = encode_setup(LiveConfig(), resume_handle=handles[-1])
        ws = await connect(emulator.url)
        await ws.send(resume)
        assert await ws.recv() == b'{"setupComplete":{}}'
        await ws.send(encode_audio(tone(0.5) + bytes(2 * 9600)))
        while True:
            message = json.loads(await ws.recv())
            transcript = message.get("serverContent", {}).get("inputTranscription")
            if transcript:
                assert transcript == {"text": "[caller turn 2, 0.5 s]"}
                break
        await emulator.stop()  # closes the open connection (1001) and waits for its handler
        assert await closed_with(ws) == (1001, "")

    emulator = run(body, EmulatorConfig(speed=20, mode=ReplyMode.TONE))
    (record,) = emulator.recorder.sessions
    assert record.connections == 2
    assert record.audio_samples == 2 * 17_600
    assert record.utterances == [(0, 8000), (17_600, 25_600)]


def test_setup_must_arrive_in_time() -> None:
    async def body(emulator: LiveEmulator) -> None:
        async with connect(emulator.url) as ws:
            assert await closed_with(ws) == (1007, "Setup message was not received in time.")

    run(body, EmulatorConfig(setup_timeout_s=5, speed=50))


def tone(seconds: float) -> bytes:
    t = np.arange(round(seconds * 16_000)) / 16_000
    return (6000 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()

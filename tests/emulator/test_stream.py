"""Stream mode: every piece of caller audio echoed at once, exactly, with no turn-taking."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import numpy as np
from websockets.asyncio.client import connect

from gateway.cli import _build_parser
from gateway.emulator import EmulatorConfig, LiveEmulator, ReplyMode
from gateway.emulator.cli import config_from_args
from gateway.emulator.replies import echo_audio
from gateway.emulator.speaker import usage_metadata
from gateway.live.protocol import encode_audio, encode_audio_stream_end, encode_setup
from gateway.live.setup import LiveConfig
from tests.emulator.test_conversation import (
    HANDLE_1,
    HANDLE_2,
    NOT_RESUMABLE,
    audio,
    make,
    quiet,
    show,
    tone,
)

STREAM = EmulatorConfig(mode=ReplyMode.STREAM, chunk_ms=40)
GENERATION_COMPLETE = '{"serverContent":{"generationComplete":true}}'


def pcm_of(outputs: list[Any]) -> list[np.ndarray[Any, np.dtype[np.int16]]]:
    chunks = []
    for output in outputs:
        parts = output.message.get("serverContent", {}).get("modelTurn", {}).get("parts", [])
        for part in parts:
            chunks.append(np.frombuffer(base64.b64decode(part["inlineData"]["data"]), "<i2"))
    return chunks


def turn_complete(heard_s: float, said_samples: int) -> str:
    usage = usage_metadata(heard_s, said_samples / 24_000)
    message = {"serverContent": {"turnComplete": True}, "usageMetadata": usage}
    return json.dumps(message, separators=(",", ":"))


def test_each_frame_is_echoed_at_once_in_whole_chunks_and_the_turn_ends_with_the_stream() -> None:
    conversation = make(config=STREAM)
    assert show(conversation.start()) == ['{"setupComplete":{}}', HANDLE_1]
    caller = np.frombuffer(tone(0.2) + quiet(0.1) + tone(0.1), "<i2")
    frames = [caller[k : k + 320] for k in range(0, len(caller), 320)]  # 20 ms at 16 kHz
    outputs: list[Any] = []
    shown: list[list[str]] = []
    for index, frame in enumerate(frames):
        out = conversation.receive("realtimeInput", audio(frame.tobytes()), 0.02 * index)
        outputs += out
        shown.append(show(out))
    # 20 ms in is 30 ms out at 24 kHz: a 40 ms chunk leaves with every second frame, at once,
    # through the quiet part too (no VAD, no turn-taking, no transcription).
    assert shown[0] == [NOT_RESUMABLE]
    assert shown[1:] == [[] if k % 2 else ["audio:960"] for k in range(len(frames) - 1)]
    assert conversation.next_wakeup_s() == 0.02 * (len(frames) - 1) + 0.5
    end = conversation.receive("realtimeInput", {"audioStreamEnd": True}, 0.4)
    said = np.concatenate(pcm_of(outputs + end))
    # The same samples as echo mode's one-shot resampling of the whole stream, filter tail too.
    assert np.array_equal(said, echo_audio(caller.astype(np.int16), 16_000))
    tail = len(said) - 960 * (len(frames) // 2)
    assert show(end) == [
        f"audio:{tail}",
        GENERATION_COMPLETE,
        turn_complete(0.4, len(said)),
        HANDLE_2,
    ]
    assert conversation.record.model_audio_samples == len(said)
    assert conversation.memory.caller_turns == 1
    assert conversation.memory.model_turns == 1
    assert conversation.resumable


def test_no_audio_for_the_silence_duration_ends_the_turn_and_the_next_audio_starts_one() -> None:
    conversation = make(config=STREAM)
    conversation.start()
    assert show(conversation.receive("realtimeInput", audio(tone(0.04)), 0.0)) == [
        NOT_RESUMABLE,
        "audio:960",
    ]
    assert not conversation.resumable
    assert conversation.next_wakeup_s() == 0.5
    assert conversation.tick(0.49) == []
    ended = show(conversation.tick(0.5))
    assert ended[1:] == [
        GENERATION_COMPLETE,
        turn_complete(0.04, 960 + int(ended[0][6:])),
        HANDLE_2,
    ]
    assert conversation.next_wakeup_s() == 600.0 - 50.0  # only the goAway is left
    assert show(conversation.receive("realtimeInput", audio(tone(0.04)), 1.0)) == [
        NOT_RESUMABLE,
        "audio:960",
    ]


def test_a_stream_end_without_audio_and_manual_activity_signals_say_nothing() -> None:
    conversation = make(config=STREAM)
    conversation.start()
    assert conversation.receive("realtimeInput", {"audioStreamEnd": True}, 0.0) == []
    setup = {
        "model": "models/m",
        "realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}},
    }
    manual = make(config=STREAM, setup=setup)
    manual.start()
    assert manual.receive("realtimeInput", {"activityStart": {}}, 0.0) == []
    assert show(manual.receive("realtimeInput", audio(tone(0.04)), 0.0)) == ["audio:960"]
    assert manual.receive("realtimeInput", {"activityEnd": {}}, 0.04) == []
    automatic = make(config=STREAM)
    automatic.start()
    assert show(automatic.receive("realtimeInput", {"activityStart": {}}, 0.0)) == [
        "close:1007:Explicit activity control is not supported when automatic activity "
        "detection is enabled."
    ]


def test_the_server_streams_back_and_counts_messages_each_way() -> None:
    config = EmulatorConfig(mode=ReplyMode.STREAM, chunk_ms=40, keep_messages=False)
    frame = tone(0.02)

    async def main() -> tuple[LiveEmulator, list[dict[str, Any]]]:
        received: list[dict[str, Any]] = []
        async with LiveEmulator(config) as emulator:
            url = f"ws://127.0.0.1:{emulator.port}/live"
            async with connect(url) as ws:
                await ws.send(encode_setup(LiveConfig()))
                received.append(json.loads(await ws.recv()))
                for _ in range(10):
                    await ws.send(encode_audio(frame))
                await ws.send(encode_audio_stream_end())
                async with asyncio.timeout(10):
                    while "turnComplete" not in received[-1].get("serverContent", {}):
                        received.append(json.loads(await ws.recv()))
                    received.append(json.loads(await ws.recv()))  # the turn boundary's handle
        return emulator, received

    emulator, received = asyncio.run(main())
    audio_messages = [m for m in received if "modelTurn" in m.get("serverContent", {})]
    assert received[0] == {"setupComplete": {}}
    assert len(audio_messages) == 6  # 300 ms at 24 kHz: five whole chunks, then the tail
    pcm = b"".join(
        base64.b64decode(m["serverContent"]["modelTurn"]["parts"][0]["inlineData"]["data"])
        for m in audio_messages
    )
    expected = echo_audio(np.frombuffer(frame * 10, "<i2").astype(np.int16), 16_000)
    assert pcm == expected.astype("<i2").tobytes()
    assert received[-1]["sessionResumptionUpdate"]["resumable"] is True
    assert emulator.messages_received == 12  # setup, ten audio frames, the stream end
    assert emulator.messages_sent == len(received)


def test_the_command_line_takes_stream_mode() -> None:
    args = _build_parser().parse_args(["emulator", "--mode", "stream"])
    assert config_from_args(args).mode is ReplyMode.STREAM

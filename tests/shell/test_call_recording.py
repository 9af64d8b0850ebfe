"""CallRecording: the runner's hooks reach the recorder, the WAV is written as the call goes and
completed at its end, the transcript JSON holds what the caller heard, and abort leaves nothing."""

from __future__ import annotations

import asyncio
import hashlib
import json
import wave
from pathlib import Path

import numpy as np

from gateway.agents.profile import AgentProfile
from gateway.audio.paths import CarrierFormat, Encoding
from gateway.core.events import CallStarted, ClearPlayback, PlaceMark, PlayAudio
from gateway.core.transcript import AGENT, CALLER, HOLD, TranscriptLine
from gateway.live.setup import LiveConfig
from gateway.shell.call_recording import CallRecording
from gateway.shell.recordings import RecordingStore

L16 = CarrierFormat(encoding=Encoding.L16, rate_hz=8_000)
STARTED_AT_S = 1_795_000_000.0  # 2026-11-18 11:06:40 UTC
FRAME = 160  # 20 ms at 8 kHz


def _frame(value: int) -> bytes:
    return np.full(FRAME, value, dtype="<i2").tobytes()


def _recording(tmp_path: Path, *, audio: bool = True, transcript: bool = True) -> CallRecording:
    profile = AgentProfile(
        "support", LiveConfig(), record_audio=audio, record_transcript=transcript
    )
    return CallRecording(
        RecordingStore(tmp_path, retention_days=None),
        profile,
        "twilio",
        CallStarted("CA1", "MZ1", media_format=L16),
        from_number="+15557654321",
        to_number="+15550002222",
        wall_clock_s=lambda: STARTED_AT_S,
    )


LINES = [
    TranscriptLine(CALLER, "When do you open?", "When do you open?", 900.0),
    TranscriptLine(AGENT, "We open at nine and close at five.", "We open at nine", 1_500.0),
    TranscriptLine(AGENT, "Never heard.", "", 3_000.0),
    TranscriptLine(AGENT, "Goodbye.", "Goodbye.", 4_000.0),
]


async def test_the_call_is_written_as_heard_and_its_transcript_as_heard(tmp_path: Path) -> None:
    recording = _recording(tmp_path)
    flusher = asyncio.create_task(recording.run(interval_s=0.01))
    for _ in range(3):  # caller: 60 ms of 100
        recording.caller(_frame(100))
    recording.carrier_command(PlayAudio(_frame(-7) * 3))  # agent: 60 ms queued from 60 ms
    recording.carrier_command(PlaceMark("m1"))
    recording.caller(_frame(100))  # 80 ms: 20 ms of agent audio played
    recording.carrier_command(ClearPlayback())  # the other 40 ms were flushed unheard
    recording.caller(_frame(100))
    await asyncio.sleep(0.05)
    part = recording.paths.audio.with_name(recording.paths.audio.name + ".part")
    assert part.exists()  # written as the call goes, under its temporary name
    flusher.cancel()
    summary = {"duration_ms": 100.0, "end_reason": "carrier stop"}
    await recording.finish(summary, LINES)
    assert not part.exists()
    assert recording.paths.audio.parent.name == "2026-11-18"
    digest = hashlib.sha256(b"CA1").hexdigest()[:12]
    assert recording.paths.audio.name == f"110640-twilio-CA1-{digest}.wav"
    with wave.open(str(recording.paths.audio)) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (2, 8_000, 2)
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    assert frames.shape == (5 * FRAME, 2)
    assert (frames[:, 0] == 100).all()
    agent = frames[:, 1]
    assert (agent[: 3 * FRAME] == 0).all()
    assert (agent[3 * FRAME : 4 * FRAME] == -7).all()
    assert (agent[4 * FRAME :] == 0).all()
    document = json.loads(recording.paths.transcript.read_text(encoding="utf-8"))
    assert document == {
        "call_id": "CA1",
        "carrier": "twilio",
        "profile": "support",
        "from": "+15557654321",
        "to": "+15550002222",
        "started_at": "2026-11-18T11:06:40.000+00:00",
        "duration_ms": 100.0,
        "end_reason": "carrier stop",
        "audio": f"110640-twilio-CA1-{digest}.wav",
        "lines": [
            {"role": "caller", "at_ms": 900.0, "text": "When do you open?"},
            {
                "role": "agent",
                "at_ms": 1_500.0,
                "text": "We open at nine",
                "generated": "We open at nine and close at five.",
            },
            {"role": "agent", "at_ms": 3_000.0, "text": "", "generated": "Never heard."},
            {"role": "agent", "at_ms": 4_000.0, "text": "Goodbye."},
        ],
    }


async def test_a_transcript_only_profile_writes_no_audio(tmp_path: Path) -> None:
    recording = _recording(tmp_path, audio=False)
    recording.caller(_frame(1))
    await recording.run()  # nothing to flush: returns at once
    await recording.finish({"duration_ms": 20.0, "end_reason": "x"}, LINES[:1])
    assert not recording.paths.audio.exists()
    assert json.loads(recording.paths.transcript.read_text())["audio"] is None


async def test_an_audio_only_profile_writes_no_transcript(tmp_path: Path) -> None:
    recording = _recording(tmp_path, transcript=False)
    recording.caller(_frame(1))
    await recording.finish({}, LINES)
    assert recording.paths.audio.exists()
    assert not recording.paths.transcript.exists()


async def test_abort_leaves_nothing(tmp_path: Path) -> None:
    recording = _recording(tmp_path)
    recording.caller(_frame(1))
    await recording.abort()
    assert list(recording.paths.audio.parent.iterdir()) == []


async def test_a_disk_failure_is_logged_and_the_call_goes_on(tmp_path: Path) -> None:
    recording = _recording(tmp_path)
    recording.caller(_frame(1))
    recording.paths.transcript.mkdir()  # the transcript cannot be written there
    await recording.finish({}, LINES)  # does not raise
    assert recording.paths.audio.exists()  # what could be written was
    assert recording.paths.transcript.is_dir()


async def test_hold_audio_stays_out_of_the_agents_channel_and_is_a_hold_line(
    tmp_path: Path,
) -> None:
    recording = _recording(tmp_path)
    recording.caller(_frame(100))
    recording.carrier_command(PlayAudio(_frame(-7) * 2, hold=True))  # the hold sound
    recording.caller(_frame(100))
    recording.carrier_command(ClearPlayback())  # it stopped
    recording.carrier_command(PlayAudio(_frame(9)))  # the agent speaks
    recording.caller(_frame(100))
    await recording.finish(
        {"duration_ms": 60.0},
        [TranscriptLine(HOLD, "[hold audio, 0.0 s]", "[hold audio, 0.0 s]", 20.0)],
    )
    with wave.open(str(recording.paths.audio)) as wav:
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    assert set(frames[:, 1].tolist()) <= {0, 9}  # never the hold's -7
    assert (frames[:, 1] == 9).any()
    document = json.loads(recording.paths.transcript.read_text(encoding="utf-8"))
    assert document["lines"] == [{"role": "hold", "at_ms": 20.0, "text": "[hold audio, 0.0 s]"}]

"""Model audio held ahead of the carrier is bounded (policy `drop-rest-of-turn`), exactly.

A model that sends faster than real time (a flood, or one huge chunk) cannot make a call hold more
than `model_audio_ahead_max_ms` of audio: the chunk that passes the bound is cut to what fits, the
rest of that generation is dropped and counted, the first overflow is logged once, and the next
generation is admitted afresh.
"""

from __future__ import annotations

from gateway.audio.paths import CarrierFormat, DownlinkPath
from gateway.core.bridge import BridgeOptions, CallBridge
from gateway.core.events import (
    CallStarted,
    LiveOpened,
    Note,
    PlaceMark,
    PlayAudio,
    PlaybackMarked,
    StartTimer,
)
from gateway.core.speech import AgentSpeech
from gateway.live.events import AudioChunk, GenerationComplete, OutputTranscript, TurnComplete
from tests.core.test_bridge import _model_pcm

TWILIO = CarrierFormat()


def _live(ahead_max_ms: float) -> CallBridge:
    bridge = CallBridge(BridgeOptions(model_audio_ahead_max_ms=ahead_max_ms))
    bridge.begin(0)
    bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    bridge.handle(LiveOpened("s1"), 300)
    return bridge


def _speech(bridge: CallBridge) -> AgentSpeech:
    speech = bridge.call.speech  # the playout's own figures, to check the bound at every step
    assert speech is not None
    return speech


def _overflow(limit_ms: int, ahead_ms: float) -> Note:
    fields = {"policy": "drop-rest-of-turn", "limit_ms": limit_ms, "ahead_ms": ahead_ms}
    return Note("bridge.model_audio_overflow", fields, "warning")


def test_a_chunk_past_the_bound_is_cut_and_the_rest_of_the_turn_dropped() -> None:
    bridge = _live(1_000)
    pcm = _model_pcm(3_000)
    kept = DownlinkPath(TWILIO).process(pcm[: 24 * 1_000 * 2])  # the first second: 50 frames
    assert len(kept) == 50
    commands = bridge.handle(AudioChunk(pcm, 24_000), 1_000)
    # The lead (400 ms) goes out, the rest of the kept second is held; the overflow is logged.
    assert commands == [
        _overflow(1_000, 0.0),
        *[PlayAudio(frame) for frame in kept[:20]],
        StartTimer("playback", 1_020),
    ]
    assert _speech(bridge).playout.ahead_ms(1_000) == 1_000.0
    # The rest of this generation is dropped, whatever room playback makes meanwhile.
    assert bridge.handle(AudioChunk(_model_pcm(500, offset_ms=3_000), 24_000), 1_900) == []
    summary = bridge.summary()
    assert summary["model_audio_ms"] == 3_500.0
    assert summary["model_audio_dropped_ms"] == 2_500.0


def test_the_next_generation_is_admitted_afresh_and_the_overflow_logged_once() -> None:
    bridge = _live(1_000)
    bridge.handle(AudioChunk(_model_pcm(3_000), 24_000), 1_000)
    bridge.handle(GenerationComplete(), 1_010)
    bridge.handle(TurnComplete(), 1_020)
    # At 1 500: 400 ms played; the held 600 ms and the ring-out frame leave room for 200 ms.
    commands = bridge.handle(AudioChunk(_model_pcm(200, offset_ms=5_000), 24_000), 1_500)
    assert not [c for c in commands if isinstance(c, Note)]
    assert bridge.summary()["model_audio_dropped_ms"] == 2_000.0
    # Past the bound again: cut and dropped, counted, but not logged a second time.
    commands = bridge.handle(AudioChunk(_model_pcm(400, offset_ms=5_200), 24_000), 1_500)
    assert not [c for c in commands if isinstance(c, Note)]
    assert _speech(bridge).playout.ahead_ms(1_500) == 1_000.0  # 820 ahead: 180 ms kept
    assert bridge.summary()["model_audio_dropped_ms"] == 2_220.0


def test_a_20x_flood_holds_at_most_the_bound_and_counts_every_dropped_millisecond() -> None:
    bridge = _live(5_000)
    speech = _speech(bridge)
    for index in range(100):  # 100 chunks of 200 ms, one every 10 ms: 20 s in 1 s
        now = 1_000.0 + 10 * index
        bridge.handle(AudioChunk(_model_pcm(200, offset_ms=200 * index), 24_000), now)
        assert speech.playout.ahead_ms(now) <= 5_000.0
    summary = bridge.summary()
    assert summary["model_audio_ms"] == 20_000.0
    # Ahead at chunk i is what was admitted minus what played since 1 000 (10 ms a chunk): the
    # 27th chunk (i = 26, at 1 260) finds 26 * 200 - 260 = 4 940 ms ahead: 60 ms of it are kept,
    # the rest of it and the 73 chunks after it dropped.
    assert summary["model_audio_dropped_ms"] == 140.0 + 73 * 200.0 == 20_000.0 - 26 * 200 - 60


def test_one_huge_chunk_is_cut_before_it_is_converted() -> None:
    # About 7 MB of 24 kHz PCM (146 s) in one message: 60 s are kept, the rest never converted.
    bridge = _live(60_000)
    huge = bytes(2 * 24 * 146_000)
    commands = bridge.handle(AudioChunk(huge, 24_000), 1_000)
    assert commands[0] == _overflow(60_000, 0.0)
    frames = [c for c in commands if isinstance(c, PlayAudio)]
    assert len(frames) == 20  # the lead; the rest of the kept minute is held
    speech = _speech(bridge)
    assert 59_980.0 <= speech.playout.ahead_ms(1_000) <= 60_000.0
    assert bridge.summary()["model_audio_dropped_ms"] == 86_000.0
    assert not [c for c in commands if isinstance(c, PlaceMark)]


def test_words_of_the_dropped_audio_are_not_counted_as_heard() -> None:
    options = BridgeOptions(model_audio_ahead_max_ms=1_000, playback_lead_ms=2_000)
    bridge = CallBridge(options)  # a lead over the bound: the kept second goes out at once
    bridge.begin(0)
    bridge.handle(CallStarted("CA1", "MZ1", media_format=TWILIO), 100)
    bridge.handle(LiveOpened("s1"), 300)
    bridge.handle(OutputTranscript("Kept words. "), 990)  # before the chunk: its mark's words
    bridge.handle(AudioChunk(_model_pcm(3_000), 24_000), 1_000)  # cut: 1 s kept as m1
    bridge.handle(OutputTranscript("Dropped words."), 1_100)  # after the cut: no mark
    bridge.handle(GenerationComplete(), 1_200)
    bridge.handle(TurnComplete(), 1_210)
    bridge.handle(PlaybackMarked("m1"), 2_000)
    [line] = bridge.transcript()
    assert (line.text, line.heard_text) == ("Kept words. Dropped words.", "Kept words. ")

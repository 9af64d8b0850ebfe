"""The per-session record of what the emulator received."""

from __future__ import annotations

import numpy as np
import pytest

from gateway.emulator.recorder import ReceivedMessage, Recorder


def test_audio_is_counted_per_connection_and_kept_in_order() -> None:
    recorder = Recorder()
    record = recorder.new_session("s1")
    record.add_audio(1, np.array([1, 2], dtype=np.int16), 16_000)
    record.add_audio(2, np.array([3], dtype=np.int16), 16_000)
    record.messages.append(ReceivedMessage(0.0, 1, "setup", {}))
    assert record.audio_samples == 3
    assert record.audio_samples_by_connection == {1: 2, 2: 1}
    assert record.audio_rates_hz == {16_000}
    assert record.audio().tolist() == [1, 2, 3]
    assert record.kinds() == ["setup"]
    assert recorder.session("s1") is record
    with pytest.raises(KeyError):
        recorder.session("s2")


def test_audio_can_be_counted_without_being_kept() -> None:
    record = Recorder(keep_audio=False).new_session("s1")
    record.add_audio(1, np.array([1, 2], dtype=np.int16), 8000)
    assert record.audio_samples == 2
    assert record.audio().tolist() == []


def test_summarise_replaces_audio_by_sample_counts() -> None:
    from gateway.emulator.recorder import summarise

    body = {"audio": {"mimeType": "audio/pcm;rate=16000", "data": "AAAAAA=="}}
    assert summarise("realtimeInput", body) == {
        "audio": {"mimeType": "audio/pcm;rate=16000", "samples": 2}
    }
    chunks = {"mediaChunks": [{"mimeType": "audio/pcm", "data": "AAAAAAAA"}, "junk"]}
    assert summarise("realtimeInput", chunks) == {
        "mediaChunks": [{"mimeType": "audio/pcm", "samples": 3}, {"mimeType": None, "samples": 0}]
    }
    assert summarise("realtimeInput", {"text": "hi"}) == {"text": "hi"}
    assert summarise("toolResponse", {"functionResponses": []}) == {"functionResponses": []}

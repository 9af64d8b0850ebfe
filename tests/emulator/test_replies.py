"""Reply audio and deadline pacing."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from gateway.emulator.replies import Reply, echo_audio, tone_audio


def test_tone_length_level_and_fades() -> None:
    tone = tone_audio(0.5, 440.0, -6.0)
    assert len(tone) == 12_000
    assert tone.dtype == np.int16
    assert abs(int(np.abs(tone).max()) - round(32767 * 10 ** (-6 / 20))) <= 2
    assert tone[0] == 0
    assert abs(int(tone[-1])) < 50
    assert len(tone_audio(0.0, 440.0, -6.0)) == 0


def test_echo_resamples_16k_to_24k() -> None:
    t = np.arange(16_000) / 16_000
    speech = (8000 * np.sin(2 * np.pi * 300 * t)).astype(np.int16)
    echoed = echo_audio(speech, 16_000)
    assert 24_000 <= len(echoed) <= 24_200
    steady = echoed[2400:21_600].astype(np.float64)
    assert 0.98 < np.sqrt(np.mean(steady**2)) / (8000 / np.sqrt(2)) < 1.02
    same = echo_audio(speech[:100], 24_000)
    assert same.tolist() == speech[:100].tolist()


def test_reply_pacing_by_deadline() -> None:
    reply = Reply(
        start_s=1.0,
        samples=np.ones(2400 * 3, dtype=np.int16),
        text="one two",
        chunk_samples=2400,
        lead_s=0.1,
    )
    assert reply.chunk_count == 3
    assert reply.end_s == pytest.approx(1.3)
    assert [reply.due_s(i) for i in range(3)] == pytest.approx([1.0, 1.0, 1.1])
    assert reply.take_due(0.99) == []
    first = reply.take_due(1.0)
    assert len(first) == 3  # two chunks and the first word
    assert first[2] == {"serverContent": {"outputTranscription": {"text": "one "}}}
    data = first[0]["serverContent"]["modelTurn"]["parts"][0]["inlineData"]  # type: ignore[index]
    assert data["mimeType"] == "audio/pcm;rate=24000"
    assert len(base64.b64decode(data["data"])) == 4800
    assert reply.next_due_s() == pytest.approx(1.1)
    last = reply.take_due(1.1)
    assert last[1:] == [
        {"serverContent": {"outputTranscription": {"text": "two"}}},
        {"serverContent": {"generationComplete": True}},
    ]
    assert reply.next_due_s() == pytest.approx(1.3)
    assert reply.take_due(5.0) == []

"""Answers in flight: scheduling, queueing, dropping, stepping."""

from __future__ import annotations

import numpy as np
import pytest

from gateway.emulator.config import EmulatorConfig
from gateway.emulator.speaker import Finished, Speaker, Started, usage_metadata

CONFIG = EmulatorConfig(chunk_ms=100, lead_ms=0, reply_delay_ms=300, min_reply_ms=200)


def test_short_answers_are_padded_and_stepped_in_order() -> None:
    speaker = Speaker(CONFIG)
    source = np.ones(10, dtype=np.int16)
    speaker.schedule(np.ones(100, dtype=np.int16), "hi", 0.0, source)
    reply = speaker.current
    assert reply is not None
    assert len(reply.samples) == 4800  # padded to min_reply_ms
    assert reply.source is source
    assert speaker.next_s() == 0.3
    assert not speaker.audible
    steps = speaker.advance(0.3)
    assert isinstance(steps[0], Started)
    assert len(steps) == 2
    assert speaker.audible
    steps = speaker.advance(0.5)
    assert isinstance(steps[-1], Finished)
    assert speaker.current is None
    assert speaker.next_s() is None


def test_an_answer_during_an_audible_one_waits_for_it() -> None:
    speaker = Speaker(CONFIG)
    speaker.schedule(np.ones(4800, dtype=np.int16), "one", 0.0)
    speaker.advance(0.3)
    speaker.schedule(np.ones(4800, dtype=np.int16), "two", 0.35)
    steps = speaker.advance(0.5)
    assert isinstance(steps[-1], Finished)
    assert speaker.current is not None
    assert speaker.current.text == "two"
    assert speaker.current.start_s == pytest.approx(0.65)  # its own delay ends after the first
    assert isinstance(speaker.advance(0.65)[0], Started)


def test_with_a_long_audible_answer_the_next_starts_right_after_it() -> None:
    speaker = Speaker(CONFIG)
    speaker.schedule(np.ones(24_000, dtype=np.int16), "long", 0.0)
    speaker.advance(0.3)
    speaker.schedule(np.ones(4800, dtype=np.int16), "next", 0.4)
    steps = speaker.advance(1.3)
    assert isinstance(steps[-2], Started)
    assert speaker.current is not None
    assert speaker.current.start_s == pytest.approx(1.3)


def test_drop_and_clear() -> None:
    speaker = Speaker(CONFIG)
    speaker.schedule(np.ones(4800, dtype=np.int16), "x", 0.0)
    dropped = speaker.drop_unstarted()
    assert dropped is not None
    assert speaker.current is None
    speaker.schedule(np.ones(4800, dtype=np.int16), "y", 0.0)
    speaker.advance(0.3)
    assert speaker.drop_unstarted() is None
    speaker.clear()
    assert speaker.current is None


def test_usage_metadata() -> None:
    assert usage_metadata(2.0, 1.0) == {
        "promptTokenCount": 50,
        "responseTokenCount": 25,
        "totalTokenCount": 75,
        "promptTokensDetails": [{"modality": "AUDIO", "tokenCount": 50}],
        "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": 25}],
    }

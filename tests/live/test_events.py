"""Event value objects."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.live.events import AudioChunk, GoAway


def test_audio_chunk_measures_itself() -> None:
    chunk = AudioChunk(pcm=bytes(960), rate_hz=24_000)
    assert chunk.sample_count == 480
    assert chunk.duration_ms == 20.0


def test_events_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        GoAway(1.0).time_left_s = 2.0  # type: ignore[misc]

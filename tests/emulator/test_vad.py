"""Energy VAD: exact change points, chunking invariance."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.emulator.vad import EnergyVad, VadChange, VadSettings, vad_settings_for


def tone(samples: int, amplitude: float = 6000.0) -> npt.NDArray[np.int16]:
    t = np.arange(samples) / 16_000
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.int16)


def quiet(samples: int) -> npt.NDArray[np.int16]:
    return np.zeros(samples, dtype=np.int16)


SIGNAL = np.concatenate([quiet(3200), tone(8000), quiet(12_000), tone(640), quiet(1000)])
SETTINGS = VadSettings(threshold_dbfs=-45.0, start_ms=40, silence_ms=500)


def test_speech_start_and_end_are_placed_exactly() -> None:
    vad = EnergyVad(SETTINGS)
    assert vad.process(SIGNAL) == [
        VadChange(True, 3200),
        VadChange(False, 11_200),
        VadChange(True, 23_040),  # 20 ms frames: the frame from 23 040 is half speech
    ]
    assert vad.speaking
    assert vad.samples_seen == len(SIGNAL)
    assert vad.force_end() == VadChange(False, len(SIGNAL))
    assert vad.force_end() is None


def test_short_blips_and_quiet_noise_are_not_speech() -> None:
    vad = EnergyVad(SETTINGS)
    blip = np.concatenate([quiet(320), tone(320), quiet(3200), tone(16_000, amplitude=50)])
    assert vad.process(blip) == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=2000), min_size=1, max_size=40))
def test_any_chunking_gives_the_same_changes(sizes: list[int]) -> None:
    vad = EnergyVad(SETTINGS)
    changes: list[VadChange] = []
    position = 0
    while position < len(SIGNAL):
        for size in sizes:
            changes += vad.process(SIGNAL[position : position + size])
            position += size
    assert changes == EnergyVad(SETTINGS).process(SIGNAL)


def test_other_rates_use_20_ms_frames() -> None:
    vad = EnergyVad(SETTINGS, rate_hz=8000)
    signal = np.concatenate([quiet(800), tone(4000), quiet(8000)])
    assert vad.process(signal) == [VadChange(True, 800), VadChange(False, 4800)]


def test_settings_from_setup_fields() -> None:
    assert vad_settings_for(None, None, None, None) == VadSettings(-50.0, 40, 500)
    assert vad_settings_for("START_SENSITIVITY_LOW", "END_SENSITIVITY_LOW", None, None) == (
        VadSettings(-40.0, 100, 1000)
    )
    assert vad_settings_for("START_SENSITIVITY_HIGH", None, 0, 250, -30.0) == VadSettings(
        -30.0, 20, 250
    )

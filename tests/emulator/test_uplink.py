"""The bounded caller-audio window."""

from __future__ import annotations

import numpy as np

from gateway.emulator.uplink import AudioWindow


def test_window_keeps_recent_audio_and_slices_by_sample_index() -> None:
    window = AudioWindow(rate_hz=10, max_s=3.0, idle_s=1.0)
    for start in range(0, 50, 5):
        window.append(np.arange(start, start + 5, dtype=np.int16), keep_all=False)
    assert window.end == 50
    assert window.start == 40
    assert window.slice(35, 47).tolist() == list(range(40, 47))
    assert window.slice(60, 70).tolist() == []
    for start in range(50, 100, 5):
        window.append(np.arange(start, start + 5, dtype=np.int16), keep_all=True)
    assert window.start == 70
    assert window.slice(0, 100).tolist() == list(range(70, 100))
    window.append(np.zeros(0, dtype=np.int16), keep_all=True)
    assert window.end == 100

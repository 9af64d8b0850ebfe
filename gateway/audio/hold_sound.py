"""The hold sound: a soft two-note chime, synthesized (deterministically) at the model's rate,
and any other hold audio brought to that rate once.

The chime is two short sine notes (C5 then E5, 300 ms each with 40 ms raised-cosine fades,
-24 dBFS) in a 2 s loop, the rest silence: quiet, unmistakably "please hold", and far from the
band where speech carries its words. Everything here is PCM16 little-endian at
`HOLD_RATE_HZ`, the rate of model audio, so the call's own downlink path turns it into the
carrier's frames like the agent's speech (`gateway.core.hold`).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from gateway.audio.resample import Resampler

__all__ = ["CHIME_NOTES_HZ", "HOLD_RATE_HZ", "at_hold_rate", "soft_chime"]

HOLD_RATE_HZ: Final = 24_000
CHIME_NOTES_HZ: Final = (523.25, 659.25)
"""C5 and E5."""
_NOTE_MS: Final = 300
_GAP_MS: Final = 200
_LOOP_MS: Final = 2_000
_FADE_MS: Final = 40
_LEVEL_DBFS: Final = -24.0


def _note(frequency_hz: float) -> npt.NDArray[np.float64]:
    count = HOLD_RATE_HZ * _NOTE_MS // 1000
    t = np.arange(count) / HOLD_RATE_HZ
    tone = np.sin(2 * np.pi * frequency_hz * t)
    fade = HOLD_RATE_HZ * _FADE_MS // 1000
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
    tone[:fade] *= ramp
    tone[-fade:] *= ramp[::-1]
    return tone


def soft_chime() -> bytes:
    """One loop of the bundled hold sound (2 s, PCM16 LE at `HOLD_RATE_HZ`)."""
    loop = np.zeros(HOLD_RATE_HZ * _LOOP_MS // 1000)
    first, second = (_note(f) for f in CHIME_NOTES_HZ)
    start = HOLD_RATE_HZ * (_NOTE_MS + _GAP_MS) // 1000
    loop[: len(first)] = first
    loop[start : start + len(second)] = second
    amplitude = 32767 * 10 ** (_LEVEL_DBFS / 20)
    return np.rint(loop * amplitude).astype("<i2").tobytes()


def at_hold_rate(samples: npt.NDArray[np.int16], rate_hz: int) -> bytes:
    """`samples` (mono, `rate_hz`) resampled to `HOLD_RATE_HZ`, as PCM16 LE."""
    resampler = Resampler(rate_hz, HOLD_RATE_HZ)
    out = np.concatenate([resampler.process(samples), resampler.flush()])
    return out.astype("<i2").tobytes()

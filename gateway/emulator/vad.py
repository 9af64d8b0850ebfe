"""Energy-based voice activity detection on the uplink PCM. Synchronous, counts samples, no clock.

Frames of 20 ms; a frame is speech when its RMS level is above `threshold_dbfs`. Speech starts
once `start_ms` of consecutive speech frames arrived (the start is placed at the first of them);
it ends once `silence_ms` of consecutive non-speech frames arrived (the end is placed where the
silence began). Deterministic: the same samples in any chunking give the same changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["EnergyVad", "VadChange", "VadSettings", "vad_settings_for"]

FRAME_MS = 20


@dataclass(frozen=True)
class VadSettings:
    threshold_dbfs: float = -45.0
    start_ms: int = 40
    silence_ms: int = 500


@dataclass(frozen=True)
class VadChange:
    """Speech started (`speaking`) or ended at input sample `at_sample` (counted from 0)."""

    speaking: bool
    at_sample: int


def vad_settings_for(
    start_sensitivity: str | None,
    end_sensitivity: str | None,
    prefix_padding_ms: int | None,
    silence_duration_ms: int | None,
    threshold_dbfs: float | None = None,
) -> VadSettings:
    """Map the setup's `automaticActivityDetection` to VAD settings (unspecified means HIGH).

    Start HIGH: threshold -50 dBFS, 40 ms; LOW: -40 dBFS, 100 ms. End HIGH: 500 ms of silence;
    LOW: 1000 ms. `prefixPaddingMs` and `silenceDurationMs` override the durations.
    """
    start_low = start_sensitivity == "START_SENSITIVITY_LOW"
    end_low = end_sensitivity == "END_SENSITIVITY_LOW"
    threshold = threshold_dbfs if threshold_dbfs is not None else (-40.0 if start_low else -50.0)
    start_ms = prefix_padding_ms if prefix_padding_ms is not None else (100 if start_low else 40)
    silence_ms = (
        silence_duration_ms if silence_duration_ms is not None else (1000 if end_low else 500)
    )
    return VadSettings(
        threshold_dbfs=threshold,
        start_ms=max(start_ms, FRAME_MS),
        silence_ms=max(silence_ms, FRAME_MS),
    )


class EnergyVad:
    """Streaming VAD over int16 samples at `rate_hz`."""

    def __init__(self, settings: VadSettings, rate_hz: int = 16_000) -> None:
        self.settings = settings
        self.rate_hz = rate_hz
        self._frame = max(1, rate_hz * FRAME_MS // 1000)
        self._start_frames = max(1, -(-settings.start_ms // FRAME_MS))
        self._silence_frames = max(1, -(-settings.silence_ms // FRAME_MS))
        # Sum of squares per frame at the threshold level: no log and no division per frame.
        self._threshold_energy = self._frame * (32768.0 * 10 ** (settings.threshold_dbfs / 20)) ** 2
        self._pending = np.zeros(0, dtype=np.int16)
        self._frames_seen = 0
        self._run = 0
        self.speaking = False

    @property
    def samples_seen(self) -> int:
        """Samples consumed so far (whole frames plus the partial frame held back)."""
        return self._frames_seen * self._frame + len(self._pending)

    def process(self, samples: npt.NDArray[np.int16]) -> list[VadChange]:
        """Feed samples; return the changes completed by them, in order."""
        if len(self._pending):
            samples = np.concatenate([self._pending, samples])
        whole = len(samples) // self._frame
        self._pending = samples[whole * self._frame :].copy()
        if whole == 0:
            return []
        frames = samples[: whole * self._frame].astype(np.float64).reshape(whole, self._frame)
        loud = np.einsum("ij,ij->i", frames, frames) > self._threshold_energy
        changes: list[VadChange] = []
        for is_loud in loud.tolist():
            self._frames_seen += 1
            if is_loud != self.speaking:
                self._run += 1
                needed = self._silence_frames if self.speaking else self._start_frames
                if self._run >= needed:
                    self.speaking = not self.speaking
                    at_frame = self._frames_seen - self._run
                    changes.append(VadChange(self.speaking, at_frame * self._frame))
                    self._run = 0
            else:
                self._run = 0
        return changes

    def force_end(self) -> VadChange | None:
        """End speech now (audio stream end, or no audio for a while); None if not speaking."""
        if not self.speaking:
            return None
        self.speaking = False
        self._run = 0
        return VadChange(False, self.samples_seen)

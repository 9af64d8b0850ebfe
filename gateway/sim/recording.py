"""Recorded calls: a WAV file plus an optional JSON sidecar, loaded as a `CallScript`.

The sidecar sits next to the audio with the same name and `.json` (`call.wav` -> `call.json`):

    {
      "description": "what the call exercises",
      "utterances": [{"start_ms": 500, "end_ms": 1040, "text": "Hello?"}],
      "dtmf": [{"at_ms": 5000, "digit": "2"}],
      "tail_ms": 4000,
      "hints": {"vad_threshold_dbfs": -38.0}
    }

Every key is optional. `hints` carry advice for whoever replays the call (for example the Live
emulator's VAD threshold for a noisy line); the simulator itself does not read them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import signal

from gateway.audio.resample import Resampler
from gateway.sim.script import CALL_RATE_HZ, CallScript, DtmfPress, Utterance
from gateway.sim.wav import read_wav

__all__ = [
    "Recording",
    "RecordingError",
    "load_recording",
    "load_script",
    "sidecar_path",
    "to_call_rate",
]

DEFAULT_TAIL_MS = 3_000.0


class RecordingError(ValueError):
    """A recording or its sidecar is unusable."""


@dataclass(frozen=True, eq=False)
class Recording:
    path: Path
    script: CallScript
    description: str = ""
    hints: Mapping[str, Any] = field(default_factory=dict)
    source_rate_hz: int = CALL_RATE_HZ
    source_format_tag: int = 1

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def vad_threshold_dbfs(self) -> float | None:
        """The emulator VAD threshold this recording needs (None: the emulator's default)."""
        value = self.hints.get("vad_threshold_dbfs")
        return float(value) if isinstance(value, int | float) else None


def sidecar_path(audio_path: str | Path) -> Path:
    return Path(audio_path).with_suffix(".json")


def to_call_rate(samples: npt.NDArray[np.int16], rate_hz: int) -> npt.NDArray[np.int16]:
    """Resample to 8 kHz, keeping the duration.

    The gateway's own `Resampler` does every ratio with factors up to 12 (8, 16, 24, 32, 48,
    96 kHz…). Rates of the 44.1 kHz family (11025, 22050, 44100: factors 80/441 and the like)
    are beyond it and go through scipy's polyphase `resample_poly` instead.
    """
    if rate_hz == CALL_RATE_HZ:
        return samples
    length = round(len(samples) * CALL_RATE_HZ / rate_hz)
    try:
        resampler = Resampler(rate_hz, CALL_RATE_HZ)
    except ValueError:
        g = math.gcd(rate_hz, CALL_RATE_HZ)
        exact = signal.resample_poly(samples.astype(np.float64), CALL_RATE_HZ // g, rate_hz // g)
        return np.clip(np.rint(exact[:length]), -32768, 32767).astype(np.int16)
    out = np.concatenate([resampler.process(samples), resampler.flush()])
    return out[:length].astype(np.int16)


def _number(entry: Mapping[str, Any], key: str, where: str) -> float:
    value = entry.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise RecordingError(f"{where}: {key} must be a number")
    return float(value)


def _parse_sidecar(
    data: Any, where: str
) -> tuple[dict[str, Any], tuple[Utterance, ...], tuple[DtmfPress, ...]]:
    if not isinstance(data, dict):
        raise RecordingError(f"{where}: the sidecar must be a JSON object")
    try:
        utterances = tuple(
            Utterance(
                _number(u, "start_ms", where), _number(u, "end_ms", where), str(u.get("text", ""))
            )
            for u in data.get("utterances", [])
        )
        dtmf = tuple(
            DtmfPress(_number(d, "at_ms", where), str(d.get("digit", "")))
            for d in data.get("dtmf", [])
        )
    except (AttributeError, TypeError, ValueError) as exc:
        raise RecordingError(f"{where}: {exc}") from None
    return data, utterances, dtmf


def load_recording(
    path: str | Path,
    *,
    tail_ms: float | None = None,
    dtmf: tuple[DtmfPress, ...] | None = None,
) -> Recording:
    """Read a WAV (any rate, PCM or G.711) and its sidecar, if there is one, into a script.

    `tail_ms` and `dtmf` override the sidecar's. Annotations must lie within the audio.
    """
    audio_path = Path(path)
    try:
        wav = read_wav(audio_path)
    except OSError as exc:
        raise RecordingError(f"{audio_path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise RecordingError(f"{audio_path}: {exc}") from None
    audio = to_call_rate(wav.samples, wav.rate_hz)
    meta: dict[str, Any] = {}
    utterances: tuple[Utterance, ...] = ()
    presses: tuple[DtmfPress, ...] = ()
    side = sidecar_path(audio_path)
    if side.exists():
        try:
            loaded = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RecordingError(f"{side}: {exc}") from None
        meta, utterances, presses = _parse_sidecar(loaded, str(side))
    audio_ms = len(audio) * 1000 / CALL_RATE_HZ
    late = [u for u in utterances if u.end_ms > audio_ms]
    if late:
        raise RecordingError(f"{side}: utterances beyond the audio ({audio_ms:.0f} ms): {late}")
    tail = tail_ms if tail_ms is not None else meta.get("tail_ms", DEFAULT_TAIL_MS)
    if not isinstance(tail, int | float) or isinstance(tail, bool):
        raise RecordingError(f"{side}: tail_ms must be a number")
    try:
        script = CallScript(audio, dtmf if dtmf is not None else presses, utterances, float(tail))
    except ValueError as exc:
        raise RecordingError(f"{audio_path}: {exc}") from None
    hints = meta.get("hints", {})
    return Recording(
        audio_path,
        script,
        str(meta.get("description", "")),
        hints if isinstance(hints, dict) else {},
        wav.rate_hz,
        wav.format_tag,
    )


def load_script(path: str | Path) -> CallScript:
    """`load_recording(path).script`."""
    return load_recording(path).script

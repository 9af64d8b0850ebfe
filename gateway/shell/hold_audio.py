"""The hold sounds of a gateway, read and brought to the model's rate once, at start-up.

The bundled chime (`gateway.audio.hold_sound.soft_chime`) is used unless a file is configured
(`GATEWAY_HOLD_AUDIO_FILE`, a profile's `hold_audio_file`): a WAV file (PCM, 8 or 16 bits, any
rate, mono or stereo, mixed down) or raw 8 kHz μ-law (`.ulaw`, `.mulaw`), at most 60 s. Each
file is read once however many profiles name it; a file that cannot be used stops start-up
with a `HoldAudioError` naming it.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Final

import numpy as np

from gateway.audio import g711
from gateway.audio.hold_sound import at_hold_rate, soft_chime

__all__ = ["HoldAudioError", "HoldSounds", "read_hold_audio"]

MAX_SECONDS: Final = 60.0
_ULAW: Final = frozenset({".ulaw", ".mulaw", ".ul"})


class HoldAudioError(ValueError):
    """A hold audio file that cannot be used; the message names it and why."""


def read_hold_audio(path: Path) -> bytes:
    """The file's audio as PCM16 LE at the model's rate (see the module doc)."""
    try:
        if path.suffix.lower() in _ULAW:
            samples = g711.pcm16_samples(g711.ulaw_decode(path.read_bytes()))
            rate_hz = 8_000
        else:
            with wave.open(str(path), "rb") as wav:
                width, channels, rate_hz = (
                    wav.getsampwidth(),
                    wav.getnchannels(),
                    wav.getframerate(),
                )
                if width not in (1, 2):
                    raise HoldAudioError(
                        f"{path}: WAV samples must be 8 or 16 bits, not {8 * width}"
                    )
                if wav.getnframes() > MAX_SECONDS * rate_hz:
                    raise HoldAudioError(f"{path}: longer than {MAX_SECONDS:g} s")
                frames = wav.readframes(wav.getnframes())
            if width == 1:
                data = (np.frombuffer(frames, np.uint8).astype(np.int16) - 128) << 8
            else:
                data = np.frombuffer(frames, "<i2").astype(np.int16)
            if channels > 1:
                data = data.reshape(-1, channels).astype(np.int32).sum(axis=1) // channels
            samples = data.astype(np.int16)
    except (OSError, EOFError, wave.Error) as exc:
        raise HoldAudioError(f"{path}: not a usable hold sound ({exc})") from None
    if not len(samples):
        raise HoldAudioError(f"{path}: holds no audio")
    if len(samples) > MAX_SECONDS * rate_hz:
        raise HoldAudioError(f"{path}: longer than {MAX_SECONDS:g} s")
    return at_hold_rate(samples, rate_hz)


class HoldSounds:
    """Every hold sound the gateway's agents use, by file (None: the bundled chime)."""

    def __init__(self, files: set[str | None]) -> None:
        self._pcm: dict[str | None, bytes] = {
            name: soft_chime() if name is None else read_hold_audio(Path(name)) for name in files
        }

    def pcm(self, name: str | None) -> bytes:
        found = self._pcm.get(name)
        return found if found is not None else self._pcm.setdefault(name, soft_chime())

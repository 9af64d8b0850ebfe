"""Hold sounds read once at start-up: WAV (any rate, stereo mixed down) and raw μ-law, brought
to the model's rate; files that cannot be used are refused naming the file."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from gateway.audio import g711
from gateway.audio.hold_sound import CHIME_NOTES_HZ, HOLD_RATE_HZ, soft_chime
from gateway.shell.hold_audio import HoldAudioError, HoldSounds, read_hold_audio


def _wav(path: Path, samples: np.ndarray, rate_hz: int, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate_hz)
        wav.writeframes(samples.astype("<i2").tobytes())
    return path


def _peak_hz(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, "<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / HOLD_RATE_HZ)[np.argmax(spectrum)])


def test_the_bundled_chime_is_deterministic_soft_and_two_notes() -> None:
    chime = soft_chime()
    assert chime == soft_chime()
    samples = np.frombuffer(chime, "<i2")
    assert len(samples) == 2 * HOLD_RATE_HZ
    assert np.abs(samples).max() <= round(32767 * 10 ** (-24 / 20))
    first, second = (
        samples[: HOLD_RATE_HZ * 3 // 10],
        samples[HOLD_RATE_HZ // 2 : HOLD_RATE_HZ * 8 // 10],
    )
    assert abs(_peak_hz(first.tobytes()) - CHIME_NOTES_HZ[0]) < 5
    assert abs(_peak_hz(second.tobytes()) - CHIME_NOTES_HZ[1]) < 5
    assert not samples[HOLD_RATE_HZ:].any()  # the rest of the loop is silence


def test_a_wav_at_any_rate_and_stereo_is_resampled_once(tmp_path: Path) -> None:
    t = np.arange(16_000) / 16_000
    tone = (8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    stereo = np.stack([tone, tone], axis=1).reshape(-1)
    pcm = read_hold_audio(_wav(tmp_path / "hold.wav", stereo, 16_000, channels=2))
    assert abs(len(pcm) // 2 - HOLD_RATE_HZ) < 200  # plus the filter's tail  # 1 s at 24 kHz
    assert abs(_peak_hz(pcm) - 1000) < 5


def test_raw_mulaw_is_read_at_8_khz(tmp_path: Path) -> None:
    t = np.arange(8_000) / 8_000
    tone = (8000 * np.sin(2 * np.pi * 500 * t)).astype("<i2").tobytes()
    path = tmp_path / "hold.ulaw"
    path.write_bytes(g711.ulaw_encode(tone))
    pcm = read_hold_audio(path)
    assert abs(len(pcm) // 2 - HOLD_RATE_HZ) < 200  # plus the filter's tail
    assert abs(_peak_hz(pcm) - 500) < 5


def test_unusable_files_are_refused_by_name(tmp_path: Path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    with pytest.raises(HoldAudioError, match=r"notes\.wav: not a usable hold sound"):
        read_hold_audio(text)
    with pytest.raises(HoldAudioError, match=r"missing\.wav"):
        read_hold_audio(tmp_path / "missing.wav")
    long = _wav(tmp_path / "long.wav", np.zeros(61 * 8_000, dtype=np.int16), 8_000)
    with pytest.raises(HoldAudioError, match="longer than 60 s"):
        read_hold_audio(long)
    empty = _wav(tmp_path / "empty.wav", np.zeros(0, dtype=np.int16), 8_000)
    with pytest.raises(HoldAudioError, match="holds no audio"):
        read_hold_audio(empty)


def test_each_file_is_read_once_and_none_is_the_chime(tmp_path: Path) -> None:
    path = _wav(tmp_path / "hold.wav", np.full(800, 1000, dtype=np.int16), 8_000)
    sounds = HoldSounds({None, str(path)})
    assert sounds.pcm(None) == soft_chime()
    assert sounds.pcm(str(path)) == read_hold_audio(path)

"""The recorded calls in tests/recordings: format, sidecars consistent with the audio, loader.

The strongest check replays each recording through the gateway's uplink path (μ-law 8 kHz ->
16 kHz) into the Live emulator's own VAD, with the sidecar's threshold hint: it must find exactly
the annotated utterances. The end-to-end tests rely on that.
"""

from __future__ import annotations

import itertools
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from gateway.audio import g711
from gateway.audio.paths import CarrierFormat, UplinkPath
from gateway.emulator.vad import EnergyVad, vad_settings_for
from gateway.sim.analysis import frame_levels_dbfs
from gateway.sim.recording import (
    Recording,
    RecordingError,
    load_recording,
    load_script,
    sidecar_path,
    to_call_rate,
)
from gateway.sim.script import DtmfPress
from gateway.sim.wav import FORMAT_MULAW, write_pcm16_wav

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
NAMES = [
    "greeting_question",
    "interrupt",
    "dtmf_menu",
    "long_silences",
    "noisy_line",
    "callee_hello",
    "voicemail_greeting",
]


def recording(name: str) -> Recording:
    return load_recording(RECORDINGS / f"{name}.wav")


def sidecar(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDINGS / f"{name}.json").read_text())
    return data


def levels_in(rec: Recording, start_ms: float, end_ms: float) -> npt.NDArray[np.float64]:
    levels = frame_levels_dbfs(rec.script.audio)  # 10 ms frames
    return levels[int(start_ms // 10) : int(end_ms // 10)]


def rms_dbfs(samples: npt.NDArray[np.int16]) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(samples.astype(np.float64) ** 2)) / 32768))


def speech_mask(rec: Recording) -> npt.NDArray[np.bool_]:
    mask = np.zeros(len(rec.script.audio), dtype=bool)
    for u in rec.script.utterances:
        mask[round(u.start_ms * 8) : round(u.end_ms * 8)] = True
    return mask


def test_the_calls_are_here_and_small() -> None:
    assert sorted(p.stem for p in RECORDINGS.glob("*.wav")) == sorted(NAMES)
    total = sum(p.stat().st_size for p in RECORDINGS.iterdir() if p.suffix in (".wav", ".json"))
    assert total < 1_000_000


@pytest.mark.parametrize("name", NAMES)
def test_each_is_8_khz_mono_mulaw_wav_format_7(name: str) -> None:
    data = (RECORDINGS / f"{name}.wav").read_bytes()
    assert data[:4] == b"RIFF"
    assert data[8:16] == b"WAVEfmt "
    tag, channels, rate, _, align, bits = struct.unpack_from("<HHIIHH", data, 20)
    assert (tag, channels, rate, align, bits) == (FORMAT_MULAW, 1, 8000, 1, 8)
    rec = recording(name)
    assert rec.source_format_tag == FORMAT_MULAW
    assert rec.source_rate_hz == 8000
    assert rec.description


@pytest.mark.parametrize("name", NAMES)
def test_sidecar_annotations_fit_the_audio(name: str) -> None:
    rec = recording(name)
    data = sidecar(name)
    assert set(data) >= {"description", "utterances", "dtmf", "tail_ms", "hints"}
    utterances = rec.script.utterances
    assert len(utterances) >= 2
    assert all(u.text for u in utterances)
    assert utterances[-1].end_ms <= rec.script.audio_ms
    for first, second in itertools.pairwise(utterances):
        assert first.end_ms < second.start_ms
    assert rec.script.tail_ms == data["tail_ms"]
    assert rec.hints == data["hints"]


@pytest.mark.parametrize("name", NAMES)
def test_speech_is_where_the_annotations_say_at_a_telephone_level(name: str) -> None:
    rec = recording(name)
    audio = rec.script.audio
    for u in rec.script.utterances:
        span = audio[round(u.start_ms * 8) : round(u.end_ms * 8)]
        assert rms_dbfs(span) == pytest.approx(-20.0, abs=1.5)
        # Audible from the first 10 ms to the last: the annotation hugs the speech.
        inside = levels_in(rec, u.start_ms, u.end_ms)
        assert inside[0] > -50
        assert inside[-1] > -50
    outside = audio[~speech_mask(rec)]
    if rec.vad_threshold_dbfs is None:
        assert np.abs(outside).max() <= 8  # digital silence (μ-law 0 and ±8)
    else:
        assert rms_dbfs(outside) == pytest.approx(-45.0, abs=1.0)


def test_the_noisy_line_has_25_db_snr_and_a_vad_hint_above_its_noise() -> None:
    rec = recording("noisy_line")
    speech = rec.script.audio[speech_mask(rec)]
    noise = rec.script.audio[~speech_mask(rec)]
    assert rms_dbfs(speech) - rms_dbfs(noise) == pytest.approx(25.0, abs=1.5)
    assert rec.vad_threshold_dbfs == -38.0
    noise_frames = frame_levels_dbfs(noise)
    assert noise_frames.max() < -38.0 - 3  # margin for the VAD
    # Hum: the 60 Hz family is there (band-limiting lets 180 Hz and up through strongly).
    spectrum = np.abs(np.fft.rfft(noise[: 8000 * 2].astype(np.float64)))
    freqs = np.fft.rfftfreq(16000, 1 / 8000)
    hum = spectrum[np.isin(freqs, [180.0, 240.0, 300.0])].mean()
    assert hum > 10 * np.median(spectrum)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "noisy_line"])
def test_speech_is_band_limited_like_a_phone_line(name: str) -> None:
    audio = recording(name).script.audio.astype(np.float64)
    power = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / 8000)
    in_band = power[(freqs >= 300) & (freqs <= 3400)].sum()
    assert power[freqs < 150].sum() < in_band * 1e-3
    assert power[freqs > 3800].sum() < in_band * 1e-3


def emulator_turns(rec: Recording) -> list[tuple[float, float]]:
    """The utterances the Live emulator's VAD hears after the gateway's uplink path."""
    uplink = UplinkPath(CarrierFormat())
    codes = g711.ulaw_encode(rec.script.audio.astype("<i2").tobytes())
    pcm = g711.pcm16_samples(uplink.process(codes) + uplink.flush())
    settings = vad_settings_for(None, None, None, None, rec.vad_threshold_dbfs)
    vad = EnergyVad(settings, 16_000)
    changes = vad.process(np.concatenate([pcm, np.zeros(16_000 * 2, np.int16)]))
    starts = [c.at_sample / 16 for c in changes if c.speaking]
    ends = [c.at_sample / 16 for c in changes if not c.speaking]
    return list(zip(starts, ends, strict=True))


@pytest.mark.parametrize("name", NAMES)
def test_the_emulator_vad_hears_exactly_the_annotated_utterances(name: str) -> None:
    rec = recording(name)
    turns = emulator_turns(rec)
    assert len(turns) == rec.hints["emulator_turns"] == len(rec.script.utterances)
    for (start, end), u in zip(turns, rec.script.utterances, strict=True):
        assert start == pytest.approx(u.start_ms, abs=40)
        assert end == pytest.approx(u.end_ms, abs=40)


def test_the_noisy_line_needs_its_hint() -> None:
    rec = recording("noisy_line")
    default = Recording(rec.path, rec.script, hints={})
    assert len(emulator_turns(default)) == 1  # the noise alone keeps the VAD in speech


def test_interrupt_speaks_again_1_5_s_after_a_long_first_utterance() -> None:
    first, second = recording("interrupt").script.utterances
    assert first.duration_ms >= 2000
    assert second.start_ms - first.end_ms == pytest.approx(1500, abs=20)
    # Emulator defaults: end of speech 500 ms after, answer 300 ms later, as long as the
    # utterance plus 100 ms: the second utterance starts while that answer plays.
    answer_start = first.end_ms + 500 + 300
    assert answer_start < second.start_ms < answer_start + first.duration_ms + 100
    assert recording("interrupt").hints["barge_in_utterance"] == 2


def test_dtmf_menu_presses_2_in_a_silence() -> None:
    rec = recording("dtmf_menu")
    (press,) = rec.script.dtmf
    assert press.digit == "2"
    first, second = rec.script.utterances
    assert first.end_ms + 1000 < press.at_ms < second.start_ms - 1000
    assert levels_in(rec, press.at_ms - 500, press.at_ms + 500).max() < -60


def test_long_silences_are_at_least_8_s() -> None:
    utterances = recording("long_silences").script.utterances
    assert len(utterances) == 3
    for first, second in itertools.pairwise(utterances):
        assert second.start_ms - first.end_ms >= 8000


def test_callee_hello_says_hello_then_waits_4_s() -> None:
    first, second = recording("callee_hello").script.utterances
    assert first.text == "Hello?"
    assert second.start_ms - first.end_ms == pytest.approx(4000, abs=20)


def test_voicemail_greeting_ends_with_a_1_khz_beep_at_its_hint() -> None:
    rec = recording("voicemail_greeting")
    *greeting, beep = rec.script.utterances
    assert beep.text == "(beep)"
    assert rec.hints["beep_ms"] == beep.start_ms
    assert beep.duration_ms == pytest.approx(500, abs=1)
    tone = rec.script.audio[round(beep.start_ms * 8) : round(beep.end_ms * 8)].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(tone))
    assert np.fft.rfftfreq(len(tone), 1 / 8000)[int(np.argmax(spectrum))] == 1000.0
    assert greeting[-1].text == "Please leave a message after the tone."
    assert rec.script.tail_ms >= 8000  # the machine records the message


def test_greeting_question_says_hello_then_asks() -> None:
    first, second = recording("greeting_question").script.utterances
    assert first.text.startswith("Hello")
    assert second.text.endswith("?")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_make_recordings_regenerates_identical_files(tmp_path: Path) -> None:
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout
    if " 1.51 " not in version:
        pytest.skip(f"the recordings were made with espeak-ng 1.51, not {version.strip()}")
    subprocess.run(
        [sys.executable, str(RECORDINGS / "make_recordings.py"), str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    for name in NAMES:
        for suffix in (".wav", ".json"):
            fresh = (tmp_path / f"{name}{suffix}").read_bytes()
            assert fresh == (RECORDINGS / f"{name}{suffix}").read_bytes(), name + suffix


# -- the loader ---------------------------------------------------------------------------------


def test_load_script_and_overrides() -> None:
    path = RECORDINGS / "dtmf_menu.wav"
    assert sidecar_path(path) == RECORDINGS / "dtmf_menu.json"
    script = load_script(path)
    assert script.dtmf == (DtmfPress(5010, "2"),)
    rec = load_recording(path, tail_ms=0, dtmf=(DtmfPress(100, "#"),))
    assert rec.script.tail_ms == 0
    assert rec.script.dtmf == (DtmfPress(100, "#"),)
    assert rec.name == "dtmf_menu"


def test_without_a_sidecar_there_are_no_annotations(tmp_path: Path) -> None:
    write_pcm16_wav(tmp_path / "plain.wav", np.ones(800, np.int16), 8000)
    rec = load_recording(tmp_path / "plain.wav")
    assert rec.script.utterances == ()
    assert rec.script.dtmf == ()
    assert rec.script.tail_ms == 3000
    assert rec.vad_threshold_dbfs is None


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("not json", "Expecting value"),
        ("[]", "JSON object"),
        ('{"utterances": [{"start_ms": 1}]}', "end_ms must be a number"),
        ('{"utterances": [{"start_ms": 50, "end_ms": 10}]}', "start_ms < end_ms"),
        ('{"utterances": [{"start_ms": 0, "end_ms": 5000}]}', "beyond the audio"),
        ('{"dtmf": [{"at_ms": 10, "digit": "x"}]}', "digit"),
        ('{"dtmf": [{"at_ms": 99999, "digit": "1"}]}', "after the end"),
        ('{"tail_ms": "long"}', "tail_ms must be a number"),
        ('{"utterances": 5}', "not iterable"),
    ],
)
def test_bad_sidecars_are_refused(tmp_path: Path, content: str, match: str) -> None:
    write_pcm16_wav(tmp_path / "a.wav", np.ones(800, np.int16), 8000)
    (tmp_path / "a.json").write_text(content)
    with pytest.raises(RecordingError, match=match):
        load_recording(tmp_path / "a.wav")


@pytest.mark.parametrize("rate_hz", [8000, 16_000, 24_000, 48_000, 11_025, 22_050, 44_100])
def test_any_rate_is_resampled_to_8_khz_keeping_duration_and_level(rate_hz: int) -> None:
    t = np.arange(rate_hz) / rate_hz  # 1 s of 1 kHz at -20 dBFS
    tone = np.rint(3277 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    out = to_call_rate(tone, rate_hz)
    assert len(out) == 8000
    assert out.dtype == np.int16
    assert rms_dbfs(out[800:-800]) == pytest.approx(rms_dbfs(tone), abs=0.2)

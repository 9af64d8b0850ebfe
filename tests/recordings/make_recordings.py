"""Regenerate the recorded calls in this directory: μ-law WAVs plus JSON sidecars.

    scripts/install-system-packages.sh                  # espeak-ng (and sox), once
    .venv/bin/python tests/recordings/make_recordings.py [OUT_DIR]

Each call is real synthesized speech on a telephone line: espeak-ng (1.51, Debian bookworm)
speaks each utterance at 22.05 kHz; it is resampled to 8 kHz (`gateway.sim.recording.to_call_rate`),
band-limited to 300-3400 Hz like a phone line (4th-order Butterworth band-pass, zero phase),
trimmed to where it is audible, scaled to -20 dBFS RMS, and placed on the call's timeline with the
silences, key presses and (for the noisy line) mains hum and broadband noise of each script. The
mix is encoded to G.711 μ-law with the gateway's codec and written as WAV format 7. The sidecar
records where each utterance is, the DTMF presses, how long the caller stays on the line after
the audio (`tail_ms`), and hints for whoever replays the call (the emulator's VAD threshold).

Deterministic: the same espeak-ng version and this script give identical files (the noise has a
fixed seed). DTMF presses are events on the stream, not tones in the audio: Twilio sends them as
`dtmf` messages, and in-band tones would look like speech to an energy VAD.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import signal

from gateway.sim.recording import to_call_rate
from gateway.sim.wav import decode_wav, write_mulaw_wav

HERE = Path(__file__).resolve().parent
RATE_HZ = 8_000
SPEECH_DBFS = -20.0
BAND_HZ = (300.0, 3400.0)
WORDS_PER_MINUTE = 160
NOISE_SEED = 20_240_601
AUDIBLE_DBFS = -50.0  # trim each synthesized utterance to the 10 ms frames above this


@dataclass(frozen=True)
class Say:
    text: str


@dataclass(frozen=True)
class Pause:
    ms: int


@dataclass(frozen=True)
class Press:
    """A DTMF key at the current point of the timeline (no audio)."""

    digit: str


@dataclass(frozen=True)
class Beep:
    """An answering machine's beep: a sine at `hz` for `ms`, 5 ms raised-cosine edges, at the
    speech level (-20 dBFS RMS); annotated as an utterance `(beep)` and as the `beep_ms` hint."""

    hz: int
    ms: int


Step = Say | Pause | Press | Beep


@dataclass(frozen=True)
class Call:
    name: str
    description: str
    voice: str
    steps: tuple[Step, ...]
    tail_ms: int
    hints: dict[str, Any] = field(default_factory=dict)
    noise_dbfs: float | None = None
    """Line noise (half mains hum, half broadband) at this RMS level, over the whole call."""


CALLS = (
    Call(
        "greeting_question",
        "The caller says hello, waits for the agent's answer, then asks a question.",
        "en-us",
        (
            Pause(500),
            Say("Hello?"),
            Pause(2500),
            Say("Hi, can you tell me when my order will arrive?"),
            Pause(1000),
        ),
        tail_ms=4000,
        hints={"emulator_turns": 2},
    ),
    Call(
        "interrupt",
        "The caller asks for something (over 3 s), then starts speaking again 1.5 s after "
        "finishing: with the emulator's defaults (end of speech after 500 ms of silence, answer "
        "300 ms later, an echo as long as the utterance) the echo is still playing, so the "
        "second utterance is a barge-in.",
        "en-us",
        (
            Pause(500),
            Say("I would like to change the delivery address on my order, please."),
            Pause(1500),
            Say("Sorry, actually, wait a moment."),
            Pause(1000),
        ),
        tail_ms=4000,
        hints={"emulator_turns": 2, "barge_in_utterance": 2},
    ),
    Call(
        "dtmf_menu",
        "The caller says a sentence, waits for the answer, presses 2 in a silence, then says "
        "something short.",
        "en-us+f3",
        (
            Pause(500),
            Say("I am calling about my bill."),
            Pause(3000),
            Press("2"),
            Pause(2000),
            Say("Yes, thank you."),
            Pause(1000),
        ),
        tail_ms=3000,
        hints={"emulator_turns": 2},
    ),
    Call(
        "long_silences",
        "Three short utterances separated by 8.5 s of silence each (the line stays open; "
        "Twilio keeps sending silence frames).",
        "en-gb",
        (
            Pause(500),
            Say("Hello, is anyone there?"),
            Pause(8500),
            Say("I am still waiting on the line."),
            Pause(8500),
            Say("Okay, goodbye."),
            Pause(500),
        ),
        tail_ms=3000,
        hints={"emulator_turns": 3},
    ),
    Call(
        "noisy_line",
        "Speech at -20 dBFS over line noise at -45 dBFS (25 dB SNR): 60 Hz mains hum with its "
        "harmonics plus broadband noise in the phone band. The noise is above the emulator's "
        "default VAD threshold (-50 dBFS): replay it with vad_threshold_dbfs -38.",
        "en-us+m3",
        (
            Pause(800),
            Say("My phone line is a bit noisy today."),
            Pause(3000),
            Say("Can you still hear me?"),
            Pause(1000),
        ),
        tail_ms=3500,
        hints={"emulator_turns": 2, "vad_threshold_dbfs": -38.0},
        noise_dbfs=-45.0,
    ),
    Call(
        "callee_hello",
        "The callee of an outbound call picks up and says hello, waits for the agent, then "
        "answers it.",
        "en-us+f3",
        (
            Pause(700),
            Say("Hello?"),
            Pause(4000),
            Say("Yes, this is Ada speaking."),
            Pause(1000),
        ),
        tail_ms=4000,
        hints={"emulator_turns": 2},
    ),
    Call(
        "voicemail_greeting",
        "An answering machine picks up: its greeting, then the beep (1 kHz, 500 ms), then it "
        "records whatever is said.",
        "en-gb",
        (
            Pause(600),
            Say("Hi, you have reached Ada. I cannot take your call right now."),
            Pause(700),
            Say("Please leave a message after the tone."),
            Pause(700),
            Beep(1000, 500),
            Pause(1500),
        ),
        tail_ms=8000,
        hints={"emulator_turns": 3},
    ),
)


def _band_pass() -> npt.NDArray[np.float64]:
    sos: npt.NDArray[np.float64] = signal.butter(
        4, BAND_HZ, btype="bandpass", fs=RATE_HZ, output="sos"
    )
    return sos


def _rms_dbfs(x: npt.NDArray[np.float64]) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x**2)) / 32768.0))


def synthesize(text: str, voice: str) -> npt.NDArray[np.float64]:
    """One utterance at 8 kHz, band-limited, trimmed to its audible part, at -20 dBFS RMS."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(WORDS_PER_MINUTE), "--stdout", text],
        capture_output=True,
        check=True,
    ).stdout
    decoded = decode_wav(wav)
    speech = to_call_rate(decoded.samples, decoded.rate_hz).astype(np.float64)
    speech = signal.sosfiltfilt(_band_pass(), speech)
    frame = RATE_HZ // 100
    frames = speech[: len(speech) // frame * frame].reshape(-1, frame)
    levels = 20 * np.log10(np.maximum(np.sqrt(np.mean(frames**2, axis=1)), 1e-9) / 32768.0)
    loud = np.flatnonzero(levels > AUDIBLE_DBFS)
    speech = speech[loud[0] * frame : (loud[-1] + 1) * frame]
    gain: float = 10 ** ((SPEECH_DBFS - _rms_dbfs(speech)) / 20)
    return speech * gain


def beep(hz: int, ms: int) -> npt.NDArray[np.float64]:
    """A tone at the speech level with 5 ms raised-cosine edges (no click)."""
    n = ms * RATE_HZ // 1000
    tone = np.sin(2 * np.pi * hz * np.arange(n) / RATE_HZ)
    edge = RATE_HZ // 200
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(edge) / edge)
    tone[:edge] *= ramp
    tone[-edge:] *= ramp[::-1]
    gain: float = 10 ** ((SPEECH_DBFS - _rms_dbfs(tone * 32768.0)) / 20)
    return tone * 32768.0 * gain


def line_noise(samples: int, level_dbfs: float) -> npt.NDArray[np.float64]:
    """Mains hum (60 Hz and harmonics, 1/k amplitudes) plus band-limited noise, equal power."""
    rng = np.random.default_rng(NOISE_SEED)
    t = np.arange(samples) / RATE_HZ
    hum = sum(np.sin(2 * np.pi * 60 * k * t + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 10))
    hiss = signal.sosfilt(_band_pass(), rng.standard_normal(samples))
    target = 32768.0 * 10 ** (level_dbfs / 20) / np.sqrt(2)  # each half of the noise power
    mixed: npt.NDArray[np.float64] = hum * target / np.sqrt(np.mean(hum**2))
    mixed += hiss * target / np.sqrt(np.mean(hiss**2))
    return mixed


def render(call: Call) -> tuple[npt.NDArray[np.int16], dict[str, Any]]:
    pieces: list[npt.NDArray[np.float64]] = []
    utterances: list[dict[str, Any]] = []
    dtmf: list[dict[str, Any]] = []
    hints = dict(call.hints)
    at = 0  # samples
    for step in call.steps:
        if isinstance(step, Pause):
            pieces.append(np.zeros(step.ms * RATE_HZ // 1000))
            at += len(pieces[-1])
        elif isinstance(step, Press):
            dtmf.append({"at_ms": at * 1000 // RATE_HZ, "digit": step.digit})
        elif isinstance(step, Beep):
            tone = beep(step.hz, step.ms)
            start_ms = at * 1000 / RATE_HZ
            end_ms = start_ms + len(tone) * 1000 / RATE_HZ
            utterances.append({"start_ms": start_ms, "end_ms": end_ms, "text": "(beep)"})
            hints["beep_ms"] = start_ms
            pieces.append(tone)
            at += len(tone)
        else:
            speech = synthesize(step.text, call.voice)
            start_ms = at * 1000 / RATE_HZ
            utterances.append(
                {
                    "start_ms": round(start_ms, 3),
                    "end_ms": round(start_ms + len(speech) * 1000 / RATE_HZ, 3),
                    "text": step.text,
                }
            )
            pieces.append(speech)
            at += len(speech)
    audio = np.concatenate(pieces)
    if call.noise_dbfs is not None:
        audio = audio + line_noise(len(audio), call.noise_dbfs)
    pcm = np.clip(np.rint(audio), -32768, 32767).astype(np.int16)
    sidecar = {
        "description": call.description,
        "source": {
            "generator": "tests/recordings/make_recordings.py",
            "synthesizer": "espeak-ng",
            "voice": call.voice,
            "words_per_minute": WORDS_PER_MINUTE,
            "band_hz": list(BAND_HZ),
            "speech_dbfs": SPEECH_DBFS,
            "noise_dbfs": call.noise_dbfs,
        },
        "utterances": utterances,
        "dtmf": dtmf,
        "tail_ms": call.tail_ms,
        "hints": hints,
    }
    return pcm, sidecar


def main(argv: list[str]) -> int:
    """`make_recordings.py [OUT_DIR]` (default: this directory)."""
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is missing: run scripts/install-system-packages.sh", file=sys.stderr)
        return 1
    out_dir = Path(argv[0]) if argv else HERE
    out_dir.mkdir(parents=True, exist_ok=True)
    for call in CALLS:
        pcm, sidecar = render(call)
        write_mulaw_wav(out_dir / f"{call.name}.wav", pcm, RATE_HZ)
        text = json.dumps(sidecar, indent=2) + "\n"
        (out_dir / f"{call.name}.json").write_text(text, encoding="utf-8")
        print(f"{call.name}: {len(pcm) / RATE_HZ:.2f} s, {len(sidecar['utterances'])} utterances")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

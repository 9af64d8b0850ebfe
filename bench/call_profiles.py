"""The bench's call profiles: what the callers say and how the emulated model answers.

* `recorded` (the default, today's figures): the recordings back to back, each followed by a
  2.5-5 s pause in which the emulator (echo mode) answers with the caller's utterance after its
  end of speech; a quarter of the calls start with the interrupt recording (barge-ins).
* `heavy`: both parties talk all the time. The caller's audio is the recordings' speech with
  every pause cut out, back to back for the whole call (then a short tail so the last echo can
  play); the emulator (stream mode) answers every audio chunk at once with the same audio at
  24 kHz, as much as it hears, with no turn-taking and so no barge-in.

Either profile runs with a plain (`ws://`) or a TLS (`wss://`) Live leg: the emulator's `--tls`
with a generated certificate, which the gateway trusts through GATEWAY_LIVE_CA_FILE.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gateway.sim.script import CALL_RATE_HZ, CallScript, Utterance

if TYPE_CHECKING:
    from calls import Piece

__all__ = ["PROFILES", "Variant", "compose_continuous", "parse_profiles", "parse_tls", "variants"]

HEAVY_TAIL_MS = 1_000.0
"""Silence after the heavy caller's last word: the echo of its last chunks still plays."""


@dataclass(frozen=True)
class Profile:
    name: str
    emulator_mode: str
    """`gateway emulator --mode`."""
    continuous: bool
    """The caller talks without pauses (and nobody barges in)."""


PROFILES = {
    "recorded": Profile("recorded", "echo", continuous=False),
    "heavy": Profile("heavy", "stream", continuous=True),
}


@dataclass(frozen=True)
class Variant:
    """One row of the tables: a profile with a plain or a TLS Live leg."""

    profile: Profile = PROFILES["recorded"]
    tls: bool = False

    @property
    def label(self) -> str:
        return f"{self.profile.name}/{'wss' if self.tls else 'ws'}"


def parse_profiles(text: str) -> list[Profile]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in PROFILES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"profiles are {', '.join(PROFILES)} (comma-separated)")
    return [PROFILES[name] for name in dict.fromkeys(names)]


def parse_tls(text: str) -> list[bool]:
    choices = {"off": [False], "on": [True], "both": [False, True]}
    if text not in choices:
        raise argparse.ArgumentTypeError("--tls is off, on or both")
    return choices[text]


def variants(profiles: Sequence[Profile], tls: Sequence[bool]) -> list[Variant]:
    return [Variant(profile, secure) for profile in profiles for secure in tls]


def compose_continuous(pieces: Sequence[Piece], index: int, duration_ms: float) -> CallScript:
    """The pieces' speech without its pauses, back to back until `duration_ms` minus a short
    tail. Call `index` starts at its own place in the list, so calls do not say the same thing
    in step. Every speech span is one annotated utterance."""
    spans = [
        piece.audio[round(u.start_ms * CALL_RATE_HZ / 1000) : round(u.end_ms * CALL_RATE_HZ / 1000)]
        for piece in pieces
        for u in piece.utterances
    ]
    spans = [span for span in spans if len(span)]
    if not spans:
        raise ValueError("no speech in the recordings")
    wanted = max(1, round((duration_ms - HEAVY_TAIL_MS) * CALL_RATE_HZ / 1000))
    chunks: list[np.ndarray] = []
    utterances: list[Utterance] = []
    samples = 0
    k = index
    while samples < wanted:
        span = spans[k % len(spans)][: wanted - samples]
        k += 1
        start_ms = samples * 1000 / CALL_RATE_HZ
        utterances.append(Utterance(start_ms, start_ms + len(span) * 1000 / CALL_RATE_HZ))
        chunks.append(span)
        samples += len(span)
    return CallScript(np.concatenate(chunks), (), tuple(utterances), HEAVY_TAIL_MS)

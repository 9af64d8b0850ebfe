"""What a call report shows: the call's audio, its transcript as heard and its timed events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "BARGE_IN",
    "DTMF",
    "HANDOVER",
    "KINDS",
    "MARK",
    "NOTE",
    "TOOL",
    "ReportData",
    "ReportEvent",
    "ReportLine",
    "figures_from_summary",
    "lines_from_transcript",
]

BARGE_IN: Final = "barge_in"
TOOL: Final = "tool"
HANDOVER: Final = "handover"
DTMF: Final = "dtmf"
MARK: Final = "mark"
NOTE: Final = "note"
KINDS: Final = (BARGE_IN, TOOL, HANDOVER, DTMF, MARK, NOTE)


def _no_audio() -> npt.NDArray[np.int16]:
    return np.zeros(0, dtype=np.int16)


@dataclass(frozen=True)
class ReportLine:
    """One transcript line as heard: `at_ms` since the call's start (None: not timed)."""

    role: str
    """`caller` or `agent`."""
    at_ms: float | None
    text: str
    generated: str | None = None
    """An agent line a barge-in cut: what the model meant to say (`text` is what was heard)."""


@dataclass(frozen=True)
class ReportEvent:
    """Something that happened at `at_ms` (and lasted until `end_ms`, for a span)."""

    kind: str
    """One of `KINDS`."""
    at_ms: float
    label: str
    end_ms: float | None = None
    detail: str = ""

    @property
    def duration_ms(self) -> float | None:
        return None if self.end_ms is None else self.end_ms - self.at_ms


@dataclass(frozen=True)
class ReportData:
    """Everything one report shows. `caller` and `agent` are time-aligned int16 channels at
    `rate_hz` (sample 0 is the call's start, the origin of every `at_ms`)."""

    title: str
    rate_hz: int
    caller: npt.NDArray[np.int16] = field(default_factory=_no_audio)
    agent: npt.NDArray[np.int16] = field(default_factory=_no_audio)
    facts: tuple[tuple[str, str], ...] = ()
    """The call: id, carrier, profile, numbers, start, end reason."""
    lines: tuple[ReportLine, ...] = ()
    events: tuple[ReportEvent, ...] = ()
    figures: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    """Sentences under the title (what this report could not show, and why)."""

    @property
    def duration_ms(self) -> float:
        samples = max(len(self.caller), len(self.agent))
        return samples * 1000.0 / self.rate_hz if self.rate_hz else 0.0


def lines_from_transcript(entries: Sequence[Mapping[str, Any]]) -> tuple[ReportLine, ...]:
    """The transcript file's `lines` (`gateway.core.transcript.as_heard`) as report lines."""
    out = []
    for entry in entries:
        at = entry.get("at_ms")
        generated = entry.get("generated")
        out.append(
            ReportLine(
                role=str(entry.get("role", "")),
                at_ms=float(at) if isinstance(at, int | float) else None,
                text=str(entry.get("text", "")),
                generated=generated if isinstance(generated, str) else None,
            )
        )
    return tuple(out)


FIGURES: Final = (
    ("duration_ms", "duration (ms)"),
    ("end_reason", "end reason"),
    ("turns", "model turns"),
    ("interruptions", "barge-ins"),
    ("caller_audio_ms", "caller audio (ms)"),
    ("model_audio_ms", "model audio (ms)"),
    ("played_ms", "agent audio played (ms)"),
    ("flushed_ms", "agent audio cleared (ms)"),
    ("connect_wait_ms", "Live connect wait (ms)"),
    ("uplink_p50_ms", "uplink latency p50 (ms)"),
    ("uplink_p99_ms", "uplink latency p99 (ms)"),
    ("downlink_p50_ms", "downlink latency p50 (ms)"),
    ("downlink_p99_ms", "downlink latency p99 (ms)"),
    ("clear_p50_ms", "interrupted → clear p50 (ms)"),
    ("tool_calls", "tool calls"),
    ("handovers_total", "Live handovers"),
    ("dtmf_digits", "keypad digits"),
    ("marks_sent", "marks sent"),
    ("marks_played", "marks played"),
    ("cost", "estimated cost"),
)
"""The summary's figures a report shows, in order, with their labels."""


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) < 1e6 else f"{value:.0f}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_text(v)}" for k, v in value.items())
    return str(value)


def figures_from_summary(summary: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The call's figures (`call.ended`'s summary) that a report shows, as (label, text)."""
    return tuple(
        (label, _text(summary[key])) for key, label in FIGURES if summary.get(key) is not None
    )

"""A recorded call's report, written beside its recording (docs/softphone.md#the-call-report).

`write_call_report` reads the call's stereo WAV (caller left, agent right, as heard), takes the
transcript as heard, the timeline the call collected (`gateway.reports.timeline`) and its
`call.ended` summary, and writes one self-contained HTML file (`gateway.reports.html`) under a
temporary name, then renames it. Synchronous: run it in a thread.
"""

from __future__ import annotations

import wave
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gateway.reports.html import render_report
from gateway.reports.model import (
    ReportData,
    ReportEvent,
    figures_from_summary,
    lines_from_transcript,
)
from gateway.shell.recordings import write_text

__all__ = ["read_stereo", "write_call_report"]


def read_stereo(
    path: Path,
) -> tuple[int, np.ndarray[Any, np.dtype[np.int16]], np.ndarray[Any, np.dtype[np.int16]]]:
    """(rate, left, right) of a 16-bit stereo WAV (the recorder's)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 2:
            raise ValueError(f"{path.name}: not a 16-bit stereo WAV")
        rate = wav.getframerate()
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    return rate, frames[:, 0].astype(np.int16), frames[:, 1].astype(np.int16)


def write_call_report(
    path: Path,
    audio: Path,
    *,
    facts: Mapping[str, Any],
    summary: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    events: Sequence[ReportEvent],
    omitted_events: int = 0,
) -> Path:
    """Write the report of the call recorded in `audio` to `path`; returns `path`."""
    rate, caller, agent = read_stereo(audio)
    notes = []
    if omitted_events:
        notes.append(f"{omitted_events} later event(s) are not shown (the report's bound).")
    data = ReportData(
        title=f"Call {facts.get('call_id', '')}",
        rate_hz=rate,
        caller=caller,
        agent=agent,
        facts=tuple((str(k), str(v)) for k, v in facts.items() if v not in (None, "")),
        lines=lines_from_transcript(lines),
        events=tuple(events),
        figures=figures_from_summary(summary),
        notes=tuple(notes),
    )
    write_text(path, render_report(data))
    return path

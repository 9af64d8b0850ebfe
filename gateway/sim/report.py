"""`CallReport`: everything a simulated call observed, and its JSON form."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from gateway.sim.dialect import Verb
from gateway.sim.entries import (
    BargeIn,
    CallOutcome,
    ClearRecord,
    CloseRecord,
    MarkRecord,
    ReceivedMessage,
    Segment,
    SimError,
    TimelineEntry,
)
from gateway.sim.script import CALL_RATE_HZ, DtmfPress

__all__ = ["CallReport", "report_to_json"]


def _no_audio() -> npt.NDArray[np.int16]:
    return np.zeros(0, dtype=np.int16)


@dataclass(frozen=True, eq=False)
class CallReport:
    """One simulated call, from the webhook to the close.

    Times are call ms with 0 at the stream's start (the carrier's `start` message); entries from
    before the stream (webhook, TwiML) are negative. `said` and `heard` are 8 kHz int16 arrays of
    equal length, time-aligned: sample i of both is the same instant of the call.
    """

    carrier: str
    call_sid: str
    outcome: CallOutcome
    webhook_url: str
    webhook_status: int | None = None
    """HTTP status of the webhook answer (None: no answer at all)."""
    twiml: str = ""
    verbs_before: tuple[Verb, ...] = ()
    """What the answer said before the stream (or instead of it)."""
    verbs_after: tuple[Verb, ...] = ()
    """What the answer says after the stream, once the gateway closes it."""
    stream_url: str | None = None
    stream_sid: str | None = None
    custom_parameters: Mapping[str, str] = field(default_factory=dict)
    rate_hz: int = CALL_RATE_HZ
    said: npt.NDArray[np.int16] = field(default_factory=_no_audio)
    heard: npt.NDArray[np.int16] = field(default_factory=_no_audio)
    timeline: tuple[TimelineEntry, ...] = ()
    marks: tuple[MarkRecord, ...] = ()
    clears: tuple[ClearRecord, ...] = ()
    dtmf: tuple[DtmfPress, ...] = ()
    close: CloseRecord | None = None
    errors: tuple[SimError, ...] = ()
    caller_utterances: tuple[Segment, ...] = ()
    """The caller's speech: the script's annotations, else detected from `said`."""
    agent_segments: tuple[Segment, ...] = ()
    """Audible stretches of `heard`."""
    answer_latency_ms: float | None = None
    """End of the caller's first utterance -> first audible gateway audio after it."""
    barge_ins: tuple[BargeIn, ...] = ()
    media_frames_sent: int = 0
    media_frames_received: int = 0
    media_bytes_received: int = 0
    messages_received: tuple[ReceivedMessage, ...] = ()
    """Every non-media message from the gateway, as received (truncated to 300 characters)."""
    earlier_legs: tuple[CallReport, ...] = ()
    """Streams of this call before this one (a `<Connect action>` answered a new stream):
    this report is the last stream's, its times from that stream's start."""
    leg_offsets_ms: tuple[float, ...] = ()
    """Where each stream of the call started, in call ms from the first one's start (the
    earlier legs', then this one's)."""
    reconnect_gaps_ms: tuple[float, ...] = ()
    """For each new stream: from the previous stream's close to the new one's start (what the
    caller heard as silence on the line)."""

    @property
    def ok(self) -> bool:
        """A stream ran and ended normally, with no protocol error."""
        return self.outcome.ok and not self.errors

    @property
    def duration_ms(self) -> float:
        return len(self.said) * 1000 / self.rate_hz

    @property
    def heard_ms(self) -> float:
        """Audible gateway audio in total."""
        return sum(segment.duration_ms for segment in self.agent_segments)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def report_to_json(report: CallReport) -> dict[str, Any]:
    """The report as JSON-ready data; audio arrays become their lengths in samples."""
    data: dict[str, Any] = {}
    for f in dataclasses.fields(report):
        value = getattr(report, f.name)
        if isinstance(value, np.ndarray):
            data[f"{f.name}_samples"] = len(value)
        elif f.name == "earlier_legs":
            data[f.name] = [report_to_json(leg) for leg in value]
        else:
            data[f.name] = _plain(value)
    data["outcome"] = str(report.outcome)
    data["ok"] = report.ok
    data["duration_ms"] = report.duration_ms
    data["heard_ms"] = report.heard_ms
    return data

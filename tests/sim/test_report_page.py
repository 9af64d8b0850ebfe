"""A simulated call's report data: the carrier's view of the call (pure)."""

from __future__ import annotations

import numpy as np

from gateway.reports.model import BARGE_IN, DTMF, MARK, ReportEvent, ReportLine
from gateway.sim.entries import CallOutcome, ClearRecord, MarkRecord, Segment
from gateway.sim.report import CallReport
from gateway.sim.report_page import report_data
from gateway.sim.script import DtmfPress


def test_the_simulators_report_places_speech_clears_digits_and_played_marks() -> None:
    said = np.ones(8000, dtype=np.int16)
    report = CallReport(
        carrier="twilio",
        call_sid="CA1",
        outcome=CallOutcome.COMPLETED,
        webhook_url="http://gw/twilio/voice",
        said=said,
        heard=said * 2,
        caller_utterances=(Segment(100.0, 600.0, "hello"),),
        agent_segments=(Segment(300.0, 800.0),),
        clears=(ClearRecord(700.0, 120.0, 1),),
        dtmf=(DtmfPress(650.0, "5"),),
        marks=(
            MarkRecord("m1", 310.0, due_ms=400.0, played=True),
            MarkRecord("m2", 320.0, due_ms=700.0, played=False),
        ),
    )
    data = report_data(report)
    assert data.title == "Simulated call CA1"
    assert data.rate_hz == 8000
    assert data.duration_ms == 1000.0
    assert data.lines == (
        ReportLine("caller", 100.0, "hello"),
        ReportLine("agent", 300.0, "(audible, 0.5 s)"),
    )
    assert data.events == (
        ReportEvent(MARK, 400.0, "m1"),
        ReportEvent(DTMF, 650.0, "5"),
        ReportEvent(BARGE_IN, 700.0, "clear", detail="120 ms dropped"),
    )
    assert ("outcome", "completed") in data.facts

"""A simulated call's report page (`gateway call … --report call.html`): the carrier's view.

The simulator is the carrier: it knows what the caller said and heard (both at 8 kHz on one
clock), the script's annotated utterances, the barge-ins' clears, the marks it echoed and the
keypad digits it pressed. It does not see the model's words, tool calls or Live handovers: with
recordings on, the gateway's own report of the call has those (docs/softphone.md).
"""

from __future__ import annotations

from gateway.reports.model import BARGE_IN, DTMF, MARK, ReportData, ReportEvent, ReportLine
from gateway.sim.report import CallReport

__all__ = ["report_data"]

NOTE = (
    "Seen from the carrier's side: what the caller said and heard. The model's words, tool "
    "calls and Live handovers are in the gateway's own report of the call (recordings on)."
)


def _ms(value: float | None) -> str:
    return "none" if value is None else f"{value:.0f}"


def report_data(report: CallReport) -> ReportData:
    lines = [
        ReportLine("caller", u.start_ms, u.text or "(speech)") for u in report.caller_utterances
    ]
    lines += [
        ReportLine("agent", s.start_ms, s.text or f"(audible, {s.duration_ms / 1000:.1f} s)")
        for s in report.agent_segments
    ]
    lines.sort(key=lambda line: line.at_ms or 0.0)
    events = [
        ReportEvent(BARGE_IN, clear.at_ms, "clear", detail=f"{clear.dropped_ms:.0f} ms dropped")
        for clear in report.clears
    ]
    events += [ReportEvent(DTMF, press.at_ms, press.digit) for press in report.dtmf]
    events += [
        ReportEvent(MARK, mark.due_ms, mark.name)
        for mark in report.marks
        if mark.played and mark.due_ms is not None
    ]
    events.sort(key=lambda event: event.at_ms)
    facts = (
        ("call id", report.call_sid),
        ("carrier", report.carrier),
        ("outcome", report.outcome.value),
        ("stream", report.stream_sid or "none"),
    )
    figures = (
        ("duration (ms)", f"{report.duration_ms:.0f}"),
        ("answer latency (ms)", _ms(report.answer_latency_ms)),
        ("agent audible (ms)", f"{report.heard_ms:.0f}"),
        ("barge-ins", str(len(report.barge_ins))),
        ("clears", str(len(report.clears))),
        ("marks", str(len(report.marks))),
        ("media frames sent", str(report.media_frames_sent)),
        ("media frames received", str(report.media_frames_received)),
        ("errors", str(len(report.errors))),
    )
    return ReportData(
        title=f"Simulated call {report.call_sid}",
        rate_hz=report.rate_hz,
        caller=report.said,
        agent=report.heard,
        facts=facts,
        lines=tuple(lines),
        events=tuple(events),
        figures=figures,
        notes=(NOTE,),
    )

"""Call reports: the timeline from bridge steps, the envelope, and the HTML (pure)."""

from __future__ import annotations

import re

import numpy as np

from gateway.core.events import (
    CallStarted,
    ClearPlayback,
    DtmfPressed,
    Note,
    PlaceMark,
    PlaybackMarked,
    RunTool,
    ToolFinished,
)
from gateway.live.events import FunctionCall
from gateway.reports.html import WIDTH_PX, envelope, render_report
from gateway.reports.model import (
    BARGE_IN,
    DTMF,
    HANDOVER,
    MARK,
    TOOL,
    ReportData,
    ReportEvent,
    ReportLine,
    figures_from_summary,
    lines_from_transcript,
)
from gateway.reports.timeline import MAX_EVENTS, RESULT_CHARS, CallTimeline


def test_the_timeline_times_events_from_the_calls_start() -> None:
    timeline = CallTimeline()
    timeline.observe(PlaybackMarked("early"), [], 500.0)  # before the start: not a call yet
    timeline.observe(CallStarted("CA1", "MZ1"), [], 1000.0)
    timeline.observe(DtmfPressed("5"), [], 1200.0)
    call = FunctionCall("t1", "lookup", {"id": "secret"})
    timeline.observe(PlaybackMarked("m1"), [RunTool(call), PlaceMark("m2")], 1500.0)
    timeline.observe(ToolFinished("t1", "lookup", {"output": "x" * 400}), [], 2250.0)
    timeline.observe(DtmfPressed("1"), [ClearPlayback()], 3000.0)
    note = Note("live.handover", {"gap_ms": 120.5, "reason": "go_away", "outcome": "resumed"})
    timeline.observe(DtmfPressed("2"), [note], 4000.0)
    result = '{"output": "' + "x" * (RESULT_CHARS - 13) + "…"
    assert timeline.events == [
        ReportEvent(DTMF, 200.0, "5"),
        ReportEvent(MARK, 500.0, "m1"),
        ReportEvent(TOOL, 500.0, "lookup", 1250.0, "ok: " + result),
        ReportEvent(DTMF, 2000.0, "1"),
        ReportEvent(BARGE_IN, 2000.0, "barge-in"),
        ReportEvent(DTMF, 3000.0, "2"),
        ReportEvent(HANDOVER, 3000.0 - 120.5, "handover", 3000.0, "go_away resumed"),
    ]
    assert len(result) == RESULT_CHARS
    assert "secret" not in repr(timeline.events)  # tool arguments never reach a report


def test_the_timeline_is_bounded() -> None:
    timeline = CallTimeline()
    timeline.observe(CallStarted("CA1", "MZ1"), [], 0.0)
    for index in range(MAX_EVENTS + 7):
        timeline.observe(PlaybackMarked(f"m{index}"), [], float(index))
    assert len(timeline.events) == MAX_EVENTS
    assert timeline.omitted == 7


def test_the_envelope_keeps_each_columns_extremes() -> None:
    samples = np.array([0, 16384, -16384, 0, 32767, -32768, 0, 0], dtype=np.int16)
    lows, highs = envelope(samples, 4)
    assert highs == [0.5, 0.0, 32767 / 32768, 0.0]
    assert lows == [0.0, -0.5, -1.0, 0.0]
    assert envelope(np.zeros(0, dtype=np.int16), 3) == ([0.0] * 3, [0.0] * 3)
    assert len(envelope(samples, 20)[0]) == 20  # more columns than samples


def _data() -> ReportData:
    rate = 8000
    caller = (np.sin(np.arange(rate * 4) / 3) * 8000).astype(np.int16)
    agent = np.zeros(rate * 4, dtype=np.int16)
    agent[rate : rate * 2] = 12000
    return ReportData(
        title="Call CA<1>",
        rate_hz=rate,
        caller=caller,
        agent=agent,
        facts=(("carrier", "twilio"),),
        lines=(
            ReportLine("caller", 100.0, "Hello <there>"),
            ReportLine("agent", 1000.0, "Hi, how", "Hi, how can I help?"),
            ReportLine("caller", None, "untimed"),
        ),
        events=(
            ReportEvent(BARGE_IN, 1800.0, "barge-in"),
            ReportEvent(TOOL, 2000.0, "lookup", 2600.0, "ok: {}"),
            ReportEvent(MARK, 1100.0, "m1"),
        ),
        figures=(("barge-ins", "1"),),
    )


def test_the_html_is_self_contained_and_escaped() -> None:
    page = render_report(_data())
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?https?:""", page)  # nothing fetched
    assert "<h1>Call CA&lt;1&gt;</h1>" in page
    assert "Hello &lt;there&gt;" in page
    assert "<there>" not in page


def test_the_html_places_waveforms_transcript_and_events_on_one_axis() -> None:
    page = render_report(_data())
    paths = re.findall(r'<path class="wave (\w+)" data-samples="(\d+)" d="([^"]+)"', page)
    assert [(name, int(samples)) for name, samples, _ in paths] == [
        ("caller", 32000),
        ("agent", 32000),
    ]
    # One point per column, twice (top edge and back along the bottom).
    assert paths[1][2].count(",") == 2 * WIDTH_PX
    said = re.findall(r'<text class="said (\w+)" x="([\d.]+)"', page)
    assert said == [("caller", "95.0"), ("agent", "320.0")]  # 70 px + at_ms / 4 s * 1000 px
    assert re.findall(r'<tr class="line (\w+)( cut)?">', page) == [
        ("caller", ""),
        ("agent", " cut"),
        ("caller", ""),
    ]
    assert '<div class="generated">Hi, how can I help?</div>' in page
    assert '<line class="barge" x1="520.0"' in page
    assert '<rect class="tool" x="570.0" y="' in page
    assert 'width="150.0"' in page
    assert re.findall(r'<tr class="event (\w+)">', page) == ["barge_in", "tool"]  # marks: ticks
    assert '<line class="mark" x1="345.0"' in page


def test_lines_and_figures_from_the_calls_files() -> None:
    lines = lines_from_transcript(
        [
            {"role": "caller", "at_ms": 120, "text": "hi"},
            {"role": "agent", "at_ms": 900.5, "text": "Hel", "generated": "Hello"},
            {"role": "agent", "at_ms": None, "text": "x"},
        ]
    )
    assert lines == (
        ReportLine("caller", 120.0, "hi"),
        ReportLine("agent", 900.5, "Hel", "Hello"),
        ReportLine("agent", None, "x"),
    )
    summary = {"duration_ms": 1234.56, "end_reason": "carrier stop", "turns": 2, "state": "x"}
    assert figures_from_summary(summary) == (
        ("duration (ms)", "1234.6"),
        ("end reason", "carrier stop"),
        ("model turns", "2"),
    )

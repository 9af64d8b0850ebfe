"""A call report as one self-contained HTML file: inline SVG and CSS, no script, no fetch.

Layout: the call's facts and figures; one SVG with a time axis, the caller's and the agent's
waveforms (min/max envelopes, one column per pixel), the transcript as heard placed on the
time axis, and a lane of events (barge-ins as lines across the waveforms, tool calls and Live
handovers as bars from start to end, keypad digits, played marks as ticks on the agent's lane);
then the transcript and the events as tables, with their times. Every text is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Final

import numpy as np
import numpy.typing as npt

from gateway.reports.model import (
    BARGE_IN,
    DTMF,
    HANDOVER,
    MARK,
    TOOL,
    ReportData,
    ReportEvent,
)

__all__ = ["WIDTH_PX", "envelope", "render_report"]

WIDTH_PX: Final = 1000
LEFT_PX: Final = 70  # room for the lane names
WAVE_PX: Final = 70  # height of one waveform lane
TEXT_ROW_PX: Final = 16
TEXT_ROWS: Final = 3  # transcript labels alternate between rows so they do not overlap
LABEL_CHARS: Final = 28
TICKS_S: Final = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)

STYLE: Final = """
body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#1d2430;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:20px 0 6px;color:#4a5566}
.note{color:#6b7686;margin:2px 0}table{border-collapse:collapse}
td,th{padding:3px 10px 3px 0;text-align:left;vertical-align:top;font-size:13px}
th{color:#5b6676;font-weight:600}.facts td:first-child,.figures td:first-child{color:#5b6676}
.cols{display:flex;gap:40px;flex-wrap:wrap}svg{background:#fafbfc;border:1px solid #e3e7ec}
.wave.caller{fill:#3b7dd8}.wave.agent{fill:#2f9e5b}.axis{stroke:#c9d0d8}.tick{fill:#6b7686;font-size:11px}
.lane{fill:#4a5566;font-size:12px}.said{font-size:11px}.said.caller{fill:#2a5ea8}
.said.agent{fill:#23784a}.barge{stroke:#cc3b3b;stroke-width:1.5}.tool{fill:#f0a030}
.handover{fill:#8d5cc4}.dtmf{fill:#1f9d55}.mark{stroke:#9aa5b1}
tr.cut td.text::after{content:" ✂ cut";color:#cc3b3b}
.generated{color:#8a94a3;text-decoration:line-through}
"""


def envelope(samples: npt.NDArray[np.int16], columns: int) -> tuple[list[float], list[float]]:
    """Per column, the smallest and largest sample as a fraction of full scale (-1 .. 1)."""
    if len(samples) == 0 or columns <= 0:
        return [0.0] * columns, [0.0] * columns
    starts = np.minimum(
        np.linspace(0, len(samples), columns + 1)[:-1].astype(np.intp), len(samples) - 1
    )
    lows = (np.minimum.reduceat(samples, starts) / 32768.0).tolist()
    highs = (np.maximum.reduceat(samples, starts) / 32768.0).tolist()
    return lows, highs


def _wave_path(samples: npt.NDArray[np.int16], columns: int, columns_px: float, top: float) -> str:
    """An SVG path outlining the channel's envelope (top edge left to right, bottom back)."""
    lows, highs = envelope(samples, columns)
    middle, half = top + WAVE_PX / 2, WAVE_PX / 2 - 2
    step = columns_px / max(columns, 1)
    upper = [f"{LEFT_PX + i * step:.1f},{middle - h * half:.1f}" for i, h in enumerate(highs)]
    lower = [
        f"{LEFT_PX + i * step:.1f},{middle - lo * half + 0.6:.1f}"
        for i, lo in reversed(list(enumerate(lows)))
    ]
    return "M" + " L".join(upper + lower) + " Z"


def _clock(ms: float) -> str:
    seconds = max(ms, 0.0) / 1000.0
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def _clip(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Scale:
    def __init__(self, duration_ms: float) -> None:
        self.duration_ms = max(duration_ms, 1.0)

    def x(self, ms: float) -> float:
        return LEFT_PX + min(max(ms, 0.0), self.duration_ms) / self.duration_ms * WIDTH_PX


def _svg(data: ReportData) -> str:
    scale = _Scale(data.duration_ms)
    waves_top = 24
    text_top = waves_top + 2 * WAVE_PX + 10
    events_top = text_top + TEXT_ROWS * TEXT_ROW_PX + 10
    height = events_top + 40
    out = [
        f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{LEFT_PX + WIDTH_PX + 20}"'
        f' height="{height}" role="img" aria-label="the call on one time axis">'
    ]
    # The time axis.
    step_s = next((s for s in TICKS_S if data.duration_ms / 1000 / s <= 12), TICKS_S[-1])
    tick_ms = 0.0
    while tick_ms <= scale.duration_ms:
        x = scale.x(tick_ms)
        out.append(f'<line class="axis" x1="{x:.1f}" y1="18" x2="{x:.1f}" y2="{height - 4}"/>')
        out.append(f'<text class="tick" x="{x + 2:.1f}" y="12">{_clock(tick_ms)}</text>')
        tick_ms += step_s * 1000
    # The waveforms.
    for index, (name, samples) in enumerate((("caller", data.caller), ("agent", data.agent))):
        top = waves_top + index * WAVE_PX
        span_px = len(samples) / max(data.rate_hz, 1) * 1000 / scale.duration_ms * WIDTH_PX
        columns = max(1, round(span_px))
        out.append(f'<text class="lane" x="4" y="{top + WAVE_PX / 2 + 4:.0f}">{name}</text>')
        path = _wave_path(samples, columns, span_px, top)
        out.append(f'<path class="wave {name}" data-samples="{len(samples)}" d="{path}"/>')
    # The transcript as heard, on the time axis.
    out.append(f'<text class="lane" x="4" y="{text_top + TEXT_ROW_PX:.0f}">said</text>')
    for index, line in enumerate(data.lines):
        if line.at_ms is None:
            continue
        y = text_top + (index % TEXT_ROWS + 1) * TEXT_ROW_PX - 4
        label = escape(_clip(line.text or "…"))
        full = escape(f"{line.role} at {_clock(line.at_ms)}: {line.text}")
        out.append(
            f'<text class="said {escape(line.role)}" x="{scale.x(line.at_ms):.1f}" y="{y}">'
            f"<title>{full}</title>{label}</text>"
        )
    # The events.
    out.append(f'<text class="lane" x="4" y="{events_top + 14}">events</text>')
    for event in data.events:
        out.append(_event_svg(event, scale, waves_top, events_top))
    out.append("</svg>")
    return "\n".join(out)


def _event_svg(event: ReportEvent, scale: _Scale, waves_top: int, events_top: int) -> str:
    x = scale.x(event.at_ms)
    title = f"<title>{escape(_event_title(event))}</title>"
    if event.kind == BARGE_IN:
        bottom = waves_top + 2 * WAVE_PX
        return (
            f'<line class="barge" x1="{x:.1f}" y1="{waves_top}" x2="{x:.1f}" y2="{bottom}">'
            f"{title}</line>"
        )
    if event.kind == MARK:
        top = waves_top + 2 * WAVE_PX - 6
        return (
            f'<line class="mark" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + 6}">{title}</line>'
        )
    if event.kind in (TOOL, HANDOVER):
        end = scale.x(event.end_ms if event.end_ms is not None else event.at_ms)
        width = max(end - x, 2.0)
        y = events_top + (4 if event.kind == TOOL else 20)
        css = "tool" if event.kind == TOOL else "handover"
        return (
            f'<rect class="{css}" x="{x:.1f}" y="{y}" width="{width:.1f}" height="12" rx="2">'
            f"{title}</rect>"
        )
    if event.kind == DTMF:
        return f'<circle class="dtmf" cx="{x:.1f}" cy="{events_top + 10}" r="5">{title}</circle>'
    return f'<circle cx="{x:.1f}" cy="{events_top + 30}" r="3">{title}</circle>'


def _event_title(event: ReportEvent) -> str:
    text = f"{event.kind.replace('_', ' ')} {event.label} at {_clock(event.at_ms)}"
    if event.duration_ms is not None:
        text += f", {event.duration_ms:.0f} ms"
    return text + (f": {event.detail}" if event.detail else "")


def _table(rows: list[str], head: str, css: str) -> str:
    body = "\n".join(rows) if rows else '<tr><td colspan="4">none</td></tr>'
    return f'<table class="{css}"><thead>{head}</thead><tbody>\n{body}\n</tbody></table>'


def _pairs(pairs: tuple[tuple[str, str], ...], css: str) -> str:
    rows = [f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in pairs]
    return _table(rows, "", css)


EVENTS_HEAD: Final = "<tr><th>at</th><th>what</th><th></th><th>lasted</th><th>detail</th></tr>"


def render_report(data: ReportData) -> str:
    """The report's HTML (UTF-8 text)."""
    lines = []
    for line in data.lines:
        cut = line.generated is not None
        generated = f'<div class="generated">{escape(line.generated or "")}</div>' if cut else ""
        at = "" if line.at_ms is None else _clock(line.at_ms)
        lines.append(
            f'<tr class="line {escape(line.role)}{" cut" if cut else ""}"><td>{at}</td>'
            f'<td>{escape(line.role)}</td><td class="text">'
            f'<span class="words">{escape(line.text)}</span>{generated}</td></tr>'
        )
    shown = [event for event in data.events if event.kind != MARK]
    marks = len(data.events) - len(shown)
    events = [
        f'<tr class="event {event.kind}"><td>{_clock(event.at_ms)}</td>'
        f"<td>{escape(event.kind.replace('_', ' '))}</td><td>{escape(event.label)}</td>"
        f"<td>{'' if event.duration_ms is None else f'{event.duration_ms:.0f} ms'}</td>"
        f"<td>{escape(event.detail)}</td></tr>"
        for event in shown
    ]
    notes = "".join(f'<p class="note">{escape(note)}</p>' for note in data.notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(data.title)}</title>
<style>{STYLE}</style></head>
<body>
<h1>{escape(data.title)}</h1>
{notes}
<div class="cols"><div><h2>Call</h2>{_pairs(data.facts, "facts")}</div>
<div><h2>Figures</h2>{_pairs(data.figures, "figures")}</div></div>
<h2>Timeline</h2>
<p class="note">Caller and agent as heard, on one time axis; hover for details.
{marks} played mark(s) are the ticks under the agent's lane.</p>
{_svg(data)}
<h2>Transcript as heard</h2>
{_table(lines, "<tr><th>at</th><th>who</th><th>text</th></tr>", "transcript")}
<h2>Events</h2>
{_table(events, EVENTS_HEAD, "events")}
</body></html>
"""

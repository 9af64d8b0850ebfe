"""`format_timeline`: a simulated call as a person reads it."""

from __future__ import annotations

from gateway.sim.entries import CallOutcome, MarkRecord, TimelineEntry
from gateway.sim.report import CallReport

__all__ = ["abbreviate", "format_timeline"]

_OUTCOME_TEXT = {
    CallOutcome.COMPLETED: "the caller's script ran to the end",
    CallOutcome.GATEWAY_CLOSED: "the gateway closed the stream",
    CallOutcome.NO_STREAM: "the answer opened no media stream",
    CallOutcome.WEBHOOK_FAILED: "the webhook failed",
    CallOutcome.TWIML_REFUSED: "the answer was refused",
    CallOutcome.STREAM_REFUSED: "the media stream could not be opened",
    CallOutcome.PROTOCOL_ERROR: "the gateway broke the stream protocol (31924)",
}


def abbreviate(value: str, keep: int = 12) -> str:
    """Long values (stream tokens) shortened for printing."""
    return value if len(value) <= keep else value[:keep] + "…"


def abbreviate_url(url: str) -> str:
    """`url` with each query value shortened (dialects that carry the stream token there)."""
    base, sep, query = url.partition("?")
    if not sep:
        return url
    pairs = (item.partition("=") for item in query.split("&"))
    return base + "?" + "&".join(k + eq + abbreviate(v) for k, eq, v in pairs)


def _seconds(t_ms: float) -> str:
    return f"{t_ms / 1000:8.3f}"


def _header(report: CallReport) -> list[str]:
    status = report.webhook_status if report.webhook_status is not None else "no answer"
    lines = [
        f"{report.carrier} call {report.call_sid} -> {report.webhook_url}: HTTP {status}",
        f"outcome: {report.outcome} ({_OUTCOME_TEXT[report.outcome]})",
    ]
    if report.stream_url:
        params = ", ".join(f"{k}={abbreviate(v)}" for k, v in report.custom_parameters.items())
        stream = abbreviate_url(report.stream_url)
        lines.append(f"stream: {stream} (parameters: {params or 'none'})")
    lines += [f"twiml before the stream: {v.describe()}" for v in report.verbs_before]
    lines += [f"twiml after the stream: {v.describe()}" for v in report.verbs_after]
    lines += [f"error {e.code} at {e.at_ms / 1000:.3f} s: {e.reason}" for e in report.errors]
    if report.stream_sid is None:
        return lines
    latency = report.answer_latency_ms
    lines.append(
        "answer latency: "
        + (f"{latency / 1000:.3f} s" if latency is not None else "no answer after the caller")
    )
    lines.append(f"barge-ins: {len(report.barge_ins)}")
    for barge in report.barge_ins:
        how = "after a clear" if barge.cleared else "with no clear"
        lines.append(
            f"  at {barge.at_ms / 1000:.3f} s the caller spoke over the gateway audio; it stopped"
            f" {barge.talk_over_ms / 1000:.3f} s later, {how}"
        )
    played = sum(1 for m in report.marks if m.played)
    flushed = sum(1 for m in report.marks if m.played is False)
    lines.append(
        f"marks: {len(report.marks)} received, {played} echoed as played, {flushed} flushed"
        f" by clear, {len(report.marks) - played - flushed} never echoed"
    )
    dropped = sum(c.dropped_ms for c in report.clears)
    lines.append(f"clears: {len(report.clears)} (dropped {dropped / 1000:.3f} s of queued audio)")
    lines.append(
        f"media: sent {report.media_frames_sent} frames; received"
        f" {report.media_frames_received} frames ({report.media_bytes_received} bytes);"
        f" heard {report.heard_ms / 1000:.3f} s of audio in {report.duration_ms / 1000:.3f} s"
    )
    return lines


_MARK_TRAFFIC = frozenset({"received.mark", "sent.mark"})


def _fate(mark: MarkRecord) -> str:
    if mark.played:
        return "played"
    if mark.played is False:
        return "flushed by clear"
    return "never echoed (the call ended first)"


def _mark_lines(marks: tuple[MarkRecord, ...], entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """One line per run of marks with the same fate and nothing else happening in between."""
    others = sorted(e.t_ms for e in entries)
    lines: list[TimelineEntry] = []
    run: list[MarkRecord] = []

    def close_run() -> None:
        if not run:
            return
        first, last = run[0], run[-1]
        echoed = [m.echoed_ms for m in run if m.echoed_ms is not None]
        when = ""
        if echoed:
            low, high = min(echoed) / 1000, max(echoed) / 1000
            when = f", echoed at {low:.3f} s" if low == high else f", echoed {low:.3f}-{high:.3f} s"
        if len(run) == 1:
            detail = f"{first.name} ({first.queued_ms:.0f} ms queued): {_fate(first)}{when}"
            lines.append(TimelineEntry(first.sent_ms, "mark", detail))
        else:
            names = f"{first.name} … {last.name} ({len(run)})"
            lines.append(TimelineEntry(first.sent_ms, "marks", f"{names}: {_fate(first)}{when}"))
        run.clear()

    for mark in marks:
        interrupted = run and any(run[-1].sent_ms < t <= mark.sent_ms for t in others)
        if run and (interrupted or _fate(run[-1]) != _fate(mark)):
            close_run()
        run.append(mark)
    close_run()
    return lines


def format_timeline(report: CallReport, *, every_message: bool = False) -> str:
    """Summary lines, then the call in time order: control messages, caller utterances
    (`caller: <text>`), audible gateway audio (`agent: audio N s`), barge-ins, the close.

    Marks are condensed (one line per run of marks that shared a fate) unless `every_message`:
    gateways often send one per audio chunk. The report's `timeline` keeps every entry.
    """
    entries = [e for e in report.timeline if every_message or e.kind not in _MARK_TRAFFIC]
    for utterance in report.caller_utterances:
        text = utterance.text or "(speech)"
        entries.append(
            TimelineEntry(
                utterance.start_ms, "caller", f"{text} [{utterance.duration_ms / 1000:.2f} s]"
            )
        )
    for segment in report.agent_segments:
        entries.append(
            TimelineEntry(segment.start_ms, "agent", f"audio {segment.duration_ms / 1000:.2f} s")
        )
    for barge in report.barge_ins:
        entries.append(
            TimelineEntry(
                barge.at_ms, "barge-in", f"gateway audio stopped after {barge.talk_over_ms:.0f} ms"
            )
        )
    if not every_message:
        entries += _mark_lines(report.marks, entries)
    entries.sort(key=lambda entry: entry.t_ms)  # stable: same-time entries keep their order
    lines = _header(report)
    if entries:
        lines += ["", "       t  event"]
        for entry in entries:
            if entry.kind in ("caller", "agent"):
                lines.append(f"{_seconds(entry.t_ms)}  {entry.kind}: {entry.detail}")
            else:
                lines.append(f"{_seconds(entry.t_ms)}  {entry.kind:<15} {entry.detail}".rstrip())
    return "\n".join(lines) + "\n"

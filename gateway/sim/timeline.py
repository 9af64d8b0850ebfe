"""`format_timeline`: a simulated call as a person reads it."""

from __future__ import annotations

from gateway.sim.entries import CallOutcome, TimelineEntry
from gateway.sim.report import CallReport

__all__ = ["abbreviate", "format_timeline"]

_OUTCOME_TEXT = {
    CallOutcome.COMPLETED: "completed: the caller's script ran to the end",
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
        lines.append(f"stream: {report.stream_url} (parameters: {params or 'none'})")
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


def format_timeline(report: CallReport) -> str:
    """Summary lines, then every event in time order: control messages, caller utterances
    (`caller: <text>`), audible gateway audio (`agent: ... s`), barge-ins, the close."""
    entries = list(report.timeline)
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

"""The per-call counters the bridge keeps, and the summary the shell logs as `call.ended`.

The summary holds JSON-safe primitives only: figures, never audio or transcript text. Its size
is bounded whatever happens in the call: handovers are counted, and only a sample of them is
listed (`gateway.core.handover_log`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.core.playback import PlaybackLedger
from gateway.live.closes import CloseInfo

__all__ = ["CallStats", "summarize"]


@dataclass(slots=True)
class CallStats:
    """Counters updated as the call goes; times are the shell's `now_ms`."""

    started_at_ms: float | None = None
    ended_at_ms: float | None = None
    end_reason: str | None = None
    connect_wait_ms: float | None = None
    caller_frames_before_start: int = 0
    caller_dropped_ms: float = 0.0
    model_audio_ms: float = 0.0
    model_chunks_ignored: int = 0
    model_audio_dropped_ms: float = 0.0
    held_dropped_ms: float = 0.0
    connect_buffer_dropped_ms: float = 0.0
    interruptions: int = 0
    turns: int = 0
    dtmf_digits: int = 0
    dtmf_texts: int = 0
    """Texts the keypresses became (digits pressed close together share one: `core.dtmf`)."""
    dtmf_dropped: int = 0
    """Keypresses not sent: a flood beyond what `core.dtmf` holds, or held at the call's end."""
    logs_suppressed: dict[str, int] = field(default_factory=dict)
    """Per-call log lines not written, by event: floods from outside are counted, not logged."""
    messages_missed: int = 0
    messages_ignored: int = 0
    tool_calls: int = 0
    tool_calls_refused: int = 0
    """The model's tool calls answered with an error unrun: too many running at once."""
    resumption_updates: int = 0
    live_close: CloseInfo | None = None
    reconnect_buffer_dropped_ms: float = 0.0
    fallback: str | None = None
    """Why the call was sent to the fallback (None: it was not)."""
    call_action: str | None = None
    """`transfer:<label>` or `hang_up` when a tool or the fallback moved or ended the call."""
    handovers: list[dict[str, Any]] = field(default_factory=list)
    """A sample of the replaced sessions: the first and the last ones (`handover_log`)."""
    handovers_total: int = 0
    handovers_omitted: int = 0
    """Handovers counted in `handovers_total` but not listed in `handovers`."""
    handover_counts: list[dict[str, Any]] = field(default_factory=list)
    """`{reason, outcome, count}` for every handover."""
    stalls: int = 0
    """Live sessions replaced because they went silent while the caller spoke."""
    tools: list[dict[str, Any]] = field(default_factory=list)
    silence_prompts: int = 0
    """Times the model was told the caller had gone silent (`core.silence`)."""
    silence_hangups: int = 0
    """1 when the call was hung up because the caller stayed silent."""
    holds: int = 0
    """Times the caller heard the hold audio while a tool ran (`core.hold`)."""
    hold_ms: float = 0.0


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def summarize(
    stats: CallStats,
    ledger: PlaybackLedger,
    *,
    state: str,
    caller_audio_ms: float,
    usage: Mapping[str, Any],
) -> dict[str, Any]:
    """One flat dict: the call's figures (`caller_audio_ms` is what reached the uplink).

    `usage` is the call's `CallUsage.summary()`: kept whole under `usage`, and its prompt,
    response and total counts also as flat `*_tokens` keys (dashboards read those).
    """
    duration_ms = None
    if stats.started_at_ms is not None and stats.ended_at_ms is not None:
        duration_ms = stats.ended_at_ms - stats.started_at_ms
    close = stats.live_close
    return {
        "end_reason": stats.end_reason,
        "state": state,
        "duration_ms": _ms(duration_ms),
        "connect_wait_ms": _ms(stats.connect_wait_ms),
        "caller_audio_ms": _ms(caller_audio_ms),
        "caller_frames_before_start": stats.caller_frames_before_start,
        "caller_dropped_ms": _ms(stats.caller_dropped_ms),
        "connect_buffer_dropped_ms": _ms(stats.connect_buffer_dropped_ms),
        "model_audio_ms": _ms(stats.model_audio_ms),
        "model_chunks_ignored": stats.model_chunks_ignored,
        "model_audio_dropped_ms": _ms(stats.model_audio_dropped_ms),
        "sent_ms": _ms(ledger.sent_ms),
        "played_ms": _ms(ledger.played_ms),
        "flushed_ms": _ms(ledger.flushed_ms),
        "pending_ms": _ms(ledger.pending_ms),
        "held_dropped_ms": _ms(stats.held_dropped_ms),
        "interruptions": stats.interruptions,
        "turns": stats.turns,
        "dtmf_digits": stats.dtmf_digits,
        "dtmf_texts": stats.dtmf_texts,
        "dtmf_dropped": stats.dtmf_dropped,
        "marks_sent": ledger.marks_sent,
        "marks_played": ledger.marks_played,
        "marks_flushed": ledger.marks_flushed,
        "marks_unknown": ledger.marks_unknown,
        "messages_missed": stats.messages_missed,
        "messages_ignored": stats.messages_ignored,
        "logs_suppressed": dict(stats.logs_suppressed),
        "tool_calls": stats.tool_calls,
        "tool_calls_refused": stats.tool_calls_refused,
        "resumption_updates": stats.resumption_updates,
        "prompt_tokens": usage.get("prompt_tokens", 0),
        "response_tokens": usage.get("response_tokens", 0),
        "total_tokens": usage.get("total_tokens", 0),
        "usage": dict(usage),
        "reconnect_buffer_dropped_ms": _ms(stats.reconnect_buffer_dropped_ms),
        "handovers": list(stats.handovers),
        "handovers_total": stats.handovers_total,
        "handovers_omitted": stats.handovers_omitted,
        "handover_counts": list(stats.handover_counts),
        "live_stalls": stats.stalls,
        "tools": list(stats.tools),
        "silence_prompts": stats.silence_prompts,
        "silence_hangups": stats.silence_hangups,
        "holds": stats.holds,
        "hold_ms": _ms(stats.hold_ms),
        "fallback": stats.fallback,
        "call_action": stats.call_action,
        "live_close": None
        if close is None
        else {"code": close.code, "reason": close.reason, "kind": close.kind.value},
    }

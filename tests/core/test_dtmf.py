"""Keypresses through the bridge: one press goes at once, a burst becomes few texts, a flood is
capped and counted, and the caller's audio goes on untouched (issue 22: 5,000 presses had sent
2,308 texts and lost 45 % of the caller's audio). Exact commands out of the bridge."""

from __future__ import annotations

from gateway.core.bridge import CallBridge
from gateway.core.dtmf import DTMF_TIMER, DtmfGate, DtmfOut
from gateway.core.events import (
    CallerAudio,
    CallStopped,
    Command,
    DtmfPressed,
    LiveOpened,
    PlaybackMarked,
    SendAudio,
    SendText,
    StartTimer,
    TimerFired,
)
from gateway.core.log_budget import LogBudget
from gateway.core.summary import CallStats
from tests.core.test_bridge import _caller_frames, _live, _started


def text(digits: str) -> SendText:
    return SendText(f"The caller pressed {digits} on the keypad.")


def test_a_single_press_is_sent_at_once() -> None:
    bridge = _live()
    assert bridge.handle(DtmfPressed("5"), 1_000) == [text("5")]
    # A second press after the window is alone and immediate too.
    assert bridge.handle(DtmfPressed("7"), 1_500) == [text("7")]
    summary = bridge.summary()
    assert (summary["dtmf_digits"], summary["dtmf_texts"], summary["dtmf_dropped"]) == (2, 2, 0)


def test_quick_presses_share_one_text_when_the_window_closes() -> None:
    bridge = _live()
    assert bridge.handle(DtmfPressed("4"), 1_000) == [text("4")]
    assert bridge.handle(DtmfPressed("2"), 1_080) == [StartTimer(DTMF_TIMER, 1_200.0)]
    assert bridge.handle(DtmfPressed("4"), 1_150) == []
    assert bridge.handle(DtmfPressed("2"), 1_190) == []
    assert bridge.handle(TimerFired(DTMF_TIMER), 1_200) == [text("242")]
    assert bridge.handle(TimerFired(DTMF_TIMER), 1_400) == []  # a stale timer changes nothing
    summary = bridge.summary()
    assert (summary["dtmf_digits"], summary["dtmf_texts"], summary["dtmf_dropped"]) == (4, 2, 0)


def test_a_flood_is_a_few_texts_a_second_and_never_touches_the_audio() -> None:
    """1,000 presses in one second, interleaved with the caller's 50 frames: every frame goes
    up as it came; the presses become texts at most twice a second (the burst allows two at
    once), 32 digits at most wait, the rest are counted as dropped."""
    bridge = _live()
    frames = _caller_frames(50)
    out: list[Command] = []
    timer: float | None = None
    for ms in range(1_000):
        now = 1_000 + ms
        if timer is not None and now >= timer:
            out += bridge.handle(TimerFired(DTMF_TIMER), now)
            timer = None
        if ms % 20 == 0:
            out += bridge.handle(CallerAudio(frames[ms // 20]), now)
        for command in bridge.handle(DtmfPressed("1"), now):
            out.append(command)
            if isinstance(command, StartTimer):
                timer = command.at_ms
    texts = [c for c in out if isinstance(c, SendText)]
    audio = [c for c in out if isinstance(c, SendAudio)]
    # (the caller's speech also arms the Live stall timer: only the keypad's timers here)
    timers = [c for c in out if isinstance(c, StartTimer) and c.name == DTMF_TIMER]
    assert len(audio) == 50  # every frame, none lost or delayed by the keys
    assert texts == [text("1"), text("1" * 32), text("1" * 32)]
    assert timers == [
        StartTimer(DTMF_TIMER, 1_200.0),
        StartTimer(DTMF_TIMER, 1_500.0),
        StartTimer(DTMF_TIMER, 2_000.0),
    ]
    summary = bridge.summary()
    assert summary["dtmf_digits"] == 1_000
    assert summary["dtmf_texts"] == 3
    assert summary["dtmf_dropped"] == 1_000 - 1 - 32 - 32 - 32  # 32 still wait
    # The call ends with digits waiting: they are counted as dropped, never sent.
    bridge.handle(CallStopped(), 2_000)
    assert bridge.handle(TimerFired(DTMF_TIMER), 2_200) == []
    assert bridge.summary()["dtmf_dropped"] == 1_000 - 1 - 32 - 32  # the 32 waiting, too


def test_keys_pressed_while_connecting_are_held_through_the_gate() -> None:
    bridge = _started()
    assert bridge.handle(DtmfPressed("1"), 100) == []  # held, in its place
    assert bridge.handle(DtmfPressed("2"), 120) == [StartTimer(DTMF_TIMER, 300.0)]
    assert bridge.handle(TimerFired(DTMF_TIMER), 300) == []  # held too
    opened = bridge.handle(LiveOpened("s1"), 400)
    assert [c for c in opened if isinstance(c, SendText)] == [text("1"), text("2")]


def test_the_gate_alone() -> None:
    stats = CallStats()
    gate = DtmfGate(stats, coalesce_ms=100, max_texts_per_s=1, max_held_digits=2)
    assert gate.press("1", 0) == DtmfOut(("1",))
    assert gate.press("2", 50) == DtmfOut((), 1_000.0)  # the window ends at 100, a text at 1,000
    assert gate.press("3", 60) == DtmfOut()
    assert gate.press("4", 70) == DtmfOut()  # beyond the 2 held: dropped
    assert gate.timer_fired(999.0) == DtmfOut((), 1_000.0)  # early: wait again
    assert gate.timer_fired(1_000.0) == DtmfOut(("23",))
    assert (stats.dtmf_texts, stats.dtmf_dropped, gate.held) == (2, 1, 0)
    gate.press("5", 1_050)
    gate.drop_held()
    assert (stats.dtmf_dropped, gate.held) == (2, 0)


def test_the_log_budget_writes_a_few_lines_and_counts_the_rest() -> None:
    suppressed: dict[str, int] = {}
    budget = LogBudget(suppressed, limit=3)
    allowed = [budget.allow("a") for _ in range(10)]
    assert allowed == [True] * 3 + [False] * 7
    assert budget.allow("b")
    assert suppressed == {"a": 7}


def test_unknown_marks_are_counted_and_only_the_first_five_logged() -> None:
    bridge: CallBridge = _live()
    notes = [c for i in range(10_000) for c in bridge.handle(PlaybackMarked(f"x{i}"), 1_000)]
    assert [n.fields for n in notes] == [
        {"name": "x0"},
        {"name": "x1"},
        {"name": "x2"},
        {"name": "x3"},
        {"name": "x4", "more_counted_only": True},
    ]
    summary = bridge.summary()
    assert summary["marks_unknown"] == 10_000
    assert summary["logs_suppressed"] == {"bridge.unknown_mark": 9_995}

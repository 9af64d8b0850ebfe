"""Properties of the bridge over random interleavings of caller audio, model chunks, turn ends,
timers, barge-ins and in-order mark echoes, checked against a simulated carrier."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.bridge import BridgeOptions, CallBridge, CallState
from gateway.core.events import (
    BridgeEvent,
    CallerAudio,
    CallStarted,
    CancelTimer,
    ClearPlayback,
    Command,
    EndCall,
    LiveClosed,
    LiveOpened,
    PlaceMark,
    PlayAudio,
    PlaybackMarked,
    SendAudio,
    StartTimer,
    TimerFired,
)
from gateway.live.closes import close_info
from gateway.live.events import AudioChunk, GenerationComplete, Interrupted, TurnComplete

FRAME_MS = 20
_RNG = np.random.default_rng(7)
_NOISE = (_RNG.standard_normal(24 * 2000) * 3000).astype("<i2").tobytes()


@dataclass
class Carrier:
    """What a carrier does with the bridge's commands: plays frames, echoes marks in order."""

    placed: list[tuple[str, int, bool]] = field(default_factory=list)  # name, frames, cleared
    frames_since_mark: int = 0
    played_ms: int = 0
    flushed_ms: int = 0
    frames_sent: int = 0
    playback_timer_at: float | None = None
    last_mark_number: int = 0

    def take(self, commands: list[Command]) -> None:
        for command in commands:
            if isinstance(command, PlayAudio):  # one or more 20 ms frames of μ-law
                assert command.payload
                assert len(command.payload) % 160 == 0
                self.frames_sent += len(command.payload) // 160
                self.frames_since_mark += len(command.payload) // 160
            elif isinstance(command, PlaceMark):
                number = int(command.name.removeprefix("m"))
                assert number > self.last_mark_number, "marks placed out of order"
                self.last_mark_number = number
                self.placed.append((command.name, self.frames_since_mark, False))
                self.frames_since_mark = 0
            elif isinstance(command, ClearPlayback):
                self.placed = [(name, frames, True) for name, frames, _ in self.placed]
                # Audio sent ahead of a mark that will never be placed is flushed.
                self.flushed_ms += self.frames_since_mark * FRAME_MS
                self.frames_since_mark = 0
            elif isinstance(command, StartTimer) and command.name == "playback":
                self.playback_timer_at = command.at_ms
            elif isinstance(command, CancelTimer) and command.name == "playback":
                self.playback_timer_at = None

    def echo(self, skip: int) -> str | None:
        """Echo the next mark, `skip` earlier ones lost on the way (they settle with it)."""
        if not self.placed:
            return None
        taken = self.placed[: skip + 1]
        del self.placed[: skip + 1]
        for _, frames, cleared in taken:
            if cleared:
                self.flushed_ms += frames * FRAME_MS
            else:
                self.played_ms += frames * FRAME_MS
        return taken[-1][0]


ACTIONS = st.one_of(
    st.tuples(st.just("caller"), st.integers(1, 3)),
    st.tuples(st.just("chunk"), st.integers(1, 300)),
    st.tuples(st.just("echo"), st.integers(0, 2)),
    st.tuples(st.just("timer"), st.integers(0, 30)),
    st.tuples(st.just("stale_timer"), st.just(0)),
    st.tuples(st.just("advance"), st.integers(0, 500)),
    st.tuples(st.just("interrupt"), st.just(0)),
    st.tuples(st.just("generation_complete"), st.just(0)),
    st.tuples(st.just("turn_complete"), st.just(0)),
)


@settings(max_examples=600, deadline=None)
@given(
    actions=st.lists(ACTIONS, max_size=80),
    lead_ms=st.sampled_from([20.0, 100.0, 400.0, 430.0]),
    message_ms=st.sampled_from([20.0, 100.0]),
    mark_interval_ms=st.sampled_from([0.0, 200.0]),
)
def test_playback_invariants_hold_for_any_interleaving(
    actions: list[tuple[str, int]], lead_ms: float, message_ms: float, mark_interval_ms: float
) -> None:
    options = BridgeOptions(
        playback_lead_ms=lead_ms, media_message_ms=message_ms, mark_interval_ms=mark_interval_ms
    )
    bridge = CallBridge(options)
    carrier = Carrier()
    now = 0.0
    bridge.begin(now)
    bridge.handle(CallStarted("CA1", "MZ1"), now)
    bridge.handle(LiveOpened("s1"), now)
    cleared = False  # a ClearPlayback went out and no model chunk came since
    offset = 0
    for kind, value in actions:
        event: BridgeEvent | None = None
        if kind == "caller":
            event = CallerAudio(b"\xff" * (80 * value))
        elif kind == "chunk":
            size = 48 * value
            event = AudioChunk(_NOISE[offset : offset + size], 24_000)
            offset = (offset + size) % (len(_NOISE) // 2)
            cleared = False
        elif kind == "echo":
            name = carrier.echo(value)
            event = None if name is None else PlaybackMarked(name)
        elif kind == "timer":
            if carrier.playback_timer_at is not None:
                now = max(now, carrier.playback_timer_at + value)
                carrier.playback_timer_at = None
                event = TimerFired("playback")
        elif kind == "stale_timer":
            event = TimerFired("playback")
        elif kind == "advance":
            now += value
        elif kind == "interrupt":
            event = Interrupted()
        elif kind == "generation_complete":
            event = GenerationComplete()
        else:
            event = TurnComplete()
        if event is None:
            continue
        commands = bridge.handle(event, now)
        if isinstance(event, Interrupted):
            assert commands[0] == ClearPlayback()
        if isinstance(event, CallerAudio):
            assert len(commands) <= 1
            assert all(isinstance(c, SendAudio) for c in commands)
        for command in commands:
            if isinstance(command, ClearPlayback):
                cleared = True
            assert not (cleared and isinstance(command, PlayAudio)), "stale audio after a clear"
        carrier.take(commands)

        ledger = bridge.ledger
        assert bridge.state is CallState.LIVE
        assert ledger.played_ms + ledger.flushed_ms + ledger.pending_ms == ledger.sent_ms
        assert ledger.sent_ms == carrier.frames_sent * FRAME_MS
        # The bridge's figures agree with the carrier's own account, so nothing counts twice.
        assert ledger.played_ms == carrier.played_ms
        assert ledger.flushed_ms == carrier.flushed_ms
        assert ledger.marks_unknown == 0
        settled = ledger.marks_played + ledger.marks_flushed
        on_wire = settled + ledger.marks_outstanding + ledger.marks_queued
        assert on_wire + ledger.marks_merged == ledger.marks_created
        # Never more than the lead queued at the carrier.
        speech = bridge.call.speech
        assert speech is not None
        assert speech.playout.carrier_ms(now) <= max(lead_ms, FRAME_MS)

    # The model closes: everything held goes out at once, and the call ends with the last echo.
    commands = bridge.handle(LiveClosed(close_info(1000, "", go_away_seen=False)), now)
    carrier.take(commands)
    while bridge.state is CallState.ENDING:
        name = carrier.echo(0)
        assert name is not None, "ENDING with nothing left to echo"
        commands = bridge.handle(PlaybackMarked(name), now)
    assert commands[-1] == EndCall("live closed")
    assert carrier.placed == []
    assert bridge.ledger.pending_ms == 0
    assert bridge.ledger.played_ms == carrier.played_ms
    assert bridge.ledger.flushed_ms == carrier.flushed_ms

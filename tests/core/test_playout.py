"""The local playback queue: lead limit by deadline, marks after their audio, wake-ups, clears."""

from __future__ import annotations

from gateway.core.events import CancelTimer, Command, PlaceMark, PlayAudio, StartTimer
from gateway.core.playback import PlaybackLedger
from gateway.core.playout import Playout


def _frames(count: int, tag: int = 0) -> list[bytes]:
    return [bytes([tag, i]) * 80 for i in range(count)]


def _release(playout: Playout, now_ms: float, *, unlimited: bool = False) -> list[Command]:
    out: list[Command] = []
    playout.release(now_ms, out, unlimited=unlimited)
    return out


def test_frames_then_mark_while_under_the_lead() -> None:
    ledger = PlaybackLedger()
    playout = Playout(ledger, frame_ms=20, lead_ms=400)
    frames = _frames(2)
    playout.append(frames, ledger.new_mark())
    assert _release(playout, 1000) == [PlayAudio(frames[0]), PlayAudio(frames[1]), PlaceMark("m1")]
    assert playout.playout_end_ms == 1040
    assert playout.carrier_ms(1000) == 40
    assert playout.idle
    assert ledger.sent_ms == 40
    assert ledger.marks_sent == 1


def test_the_lead_limit_holds_audio_and_asks_to_wake_when_a_frame_fits() -> None:
    ledger = PlaybackLedger()
    playout = Playout(ledger, frame_ms=20, lead_ms=100)
    frames = _frames(8)
    playout.append(frames, ledger.new_mark())
    out = _release(playout, 0)
    assert out == [PlayAudio(f) for f in frames[:5]] + [StartTimer("playback", 20)]
    assert playout.held_ms == 60
    assert ledger.sent_ms == 100  # sent ahead of m1, which is still held
    # Nothing changed: no duplicate timer request.
    assert _release(playout, 5) == []
    playout.timer_fired()
    assert _release(playout, 20) == [PlayAudio(frames[5]), StartTimer("playback", 40)]
    playout.timer_fired()
    # Woken late: everything that fits goes out, then the mark right after its last frame.
    assert _release(playout, 75) == [PlayAudio(frames[6]), PlayAudio(frames[7]), PlaceMark("m1")]
    assert playout.idle
    assert playout.playout_end_ms == 160


def test_a_mark_goes_out_as_soon_as_its_audio_did_even_at_the_limit() -> None:
    ledger = PlaybackLedger()
    playout = Playout(ledger, frame_ms=20, lead_ms=40)
    first, second = _frames(2, 1), _frames(2, 2)
    playout.append(first, ledger.new_mark())
    playout.append(second, ledger.new_mark())
    out = _release(playout, 0)
    assert out == [
        PlayAudio(first[0]),
        PlayAudio(first[1]),
        PlaceMark("m1"),
        StartTimer("playback", 20),
    ]


def test_the_playout_clock_restarts_after_a_gap() -> None:
    ledger = PlaybackLedger()
    playout = Playout(ledger, frame_ms=20, lead_ms=400)
    playout.append(_frames(1), ledger.new_mark())
    _release(playout, 0)
    playout.append(_frames(1), ledger.new_mark())
    _release(playout, 5000)
    assert playout.playout_end_ms == 5020


def test_unlimited_release_sends_everything_and_cancels_the_wake_up() -> None:
    ledger = PlaybackLedger()
    playout = Playout(ledger, frame_ms=20, lead_ms=20)
    frames = _frames(3)
    playout.append(frames, ledger.new_mark())
    assert _release(playout, 0)[-1] == StartTimer("playback", 20)
    out = _release(playout, 0, unlimited=True)
    assert out == [
        PlayAudio(frames[1]),
        PlayAudio(frames[2]),
        PlaceMark("m1"),
        CancelTimer("playback"),
    ]
    assert playout.playout_end_ms == 60


def test_clear_drops_the_held_audio_and_the_wake_up() -> None:
    ledger = PlaybackLedger()
    playout = Playout(ledger, frame_ms=20, lead_ms=40)
    playout.append(_frames(5), ledger.new_mark())
    _release(playout, 0)
    out: list[Command] = []
    assert playout.clear(10, out) == 60
    assert out == [CancelTimer("playback")]
    assert playout.idle
    assert playout.held_ms == 0
    assert playout.carrier_ms(10) == 0
    assert _release(playout, 30) == []
    # Nothing armed any more: a second clear asks for nothing.
    out = []
    assert playout.clear(40, out) == 0
    assert out == []

"""The local playback queue: lead limit by deadline, marks after their audio, wake-ups, clears."""

from __future__ import annotations

from gateway.core.events import CancelTimer, Command, PlaceMark, PlayAudio, StartTimer
from gateway.core.playback import MarkState, PlaybackLedger
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


# ------------------------------------------------------------- messages of several frames


def test_frames_released_together_go_out_as_messages_of_up_to_message_frames() -> None:
    ledger = PlaybackLedger()
    playout = Playout(ledger, frame_ms=20, lead_ms=400, message_frames=5)
    frames = _frames(7)
    playout.append(frames, ledger.new_mark())
    out = _release(playout, 0)
    assert out == [
        PlayAudio(b"".join(frames[:5])),
        PlayAudio(b"".join(frames[5:])),
        PlaceMark("m1"),
    ]
    assert ledger.sent_ms == 140
    assert playout.playout_end_ms == 140


def test_under_the_lead_a_wake_up_waits_until_a_whole_message_fits() -> None:
    ledger = PlaybackLedger()
    playout = Playout(ledger, frame_ms=20, lead_ms=100, message_frames=3)
    frames = _frames(9)
    playout.append(frames, ledger.new_mark())
    # The lead takes 5 frames: one message of 3, then 2 (what fits of the next message).
    out = _release(playout, 0)
    assert out == [
        PlayAudio(b"".join(frames[:3])),
        PlayAudio(b"".join(frames[3:5])),
        StartTimer("playback", 60),  # when 3 more frames fit: the carrier holds 40 ms then
    ]
    assert _release(playout, 40) == []  # two frames would fit, not a whole message
    playout.timer_fired()
    out = _release(playout, 60)
    assert out == [PlayAudio(b"".join(frames[5:8])), StartTimer("playback", 80)]
    playout.timer_fired()
    # The last frame is all that is held: it goes when it fits.
    assert _release(playout, 80) == [PlayAudio(frames[8]), PlaceMark("m1")]
    assert playout.carrier_ms(80) == 100  # never more than the lead


# ------------------------------------------------------------------------ mark interval


def test_marks_are_placed_at_most_every_interval_and_stand_for_the_ones_skipped() -> None:
    ledger = PlaybackLedger()
    playout = Playout(ledger, frame_ms=20, lead_ms=400, message_frames=5, mark_interval_ms=100)
    chunks = [_frames(2, tag) for tag in range(4)]
    playout.append(chunks[0], ledger.new_mark())
    # m1's audio went out, its mark waits (due at 100): a wake-up is asked for it.
    assert _release(playout, 0) == [PlayAudio(b"".join(chunks[0])), StartTimer("playback", 100)]
    playout.append(chunks[1], ledger.new_mark())
    assert _release(playout, 40) == [PlayAudio(b"".join(chunks[1]))]
    assert ledger.marks_queued == 2
    assert ledger.marks_sent == 0
    playout.append(chunks[2], ledger.new_mark())
    # Due: the marks go out before m3's frames, as one mark standing for m1 and m2.
    out = _release(playout, 100)
    assert out == [PlaceMark("m2"), PlayAudio(b"".join(chunks[2])), StartTimer("playback", 200)]
    assert ledger.marks_sent == 1
    assert ledger.marks_merged == 1
    assert ledger.marks_queued == 1
    # The echo of m2 settles m1 too, with all their audio.
    assert ledger.echoed("m2")
    assert ledger.played_ms == 80
    assert ledger.marks_played == 1
    assert ledger.state("m1") is MarkState.PLAYED
    # The end of the generation places its last mark with its last frame.
    playout.append(chunks[3], ledger.new_mark())
    playout.finish()
    assert _release(playout, 120) == [
        PlayAudio(b"".join(chunks[3])),
        PlaceMark("m4"),
        CancelTimer("playback"),
    ]
    assert ledger.marks_sent == 2
    assert ledger.marks_merged == 2
    assert playout.idle


def test_a_due_mark_goes_out_on_its_wake_up_when_nothing_else_comes() -> None:
    ledger = PlaybackLedger()
    playout = Playout(ledger, frame_ms=20, lead_ms=400, mark_interval_ms=200)
    frames = _frames(2)
    playout.append(frames, ledger.new_mark())
    assert _release(playout, 0) == [
        PlayAudio(frames[0]),
        PlayAudio(frames[1]),
        StartTimer("playback", 200),
    ]
    assert not playout.idle
    playout.timer_fired()
    assert _release(playout, 200) == [PlaceMark("m1")]
    assert playout.idle
    assert ledger.marks_sent == 1


def test_finish_places_a_waiting_mark_at_once_and_a_clear_flushes_unplaced_marks() -> None:
    ledger = PlaybackLedger()
    playout = Playout(ledger, frame_ms=20, lead_ms=400, mark_interval_ms=200)
    playout.append(_frames(1), ledger.new_mark())
    _release(playout, 0)
    playout.finish()
    assert _release(playout, 10) == [PlaceMark("m1"), CancelTimer("playback")]

    playout.append(_frames(1, 1), ledger.new_mark())
    assert _release(playout, 20) == [PlayAudio(_frames(1, 1)[0]), StartTimer("playback", 220)]
    out: list[Command] = []
    playout.clear(25, out)
    ledger.clear()
    assert out == [CancelTimer("playback")]
    assert ledger.state("m2") is MarkState.FLUSHED
    assert ledger.flushed_ms == 20
    assert playout.idle

"""The playback ledger: marks' lives, in-order echoes, clears, totals and final-mark queries."""

from __future__ import annotations

import pytest

from gateway.core.playback import MarkState, PlaybackLedger


def _placed(ledger: PlaybackLedger, *audio_ms: float) -> list[str]:
    """Marks created, their audio sent and the marks placed, one per figure."""
    names = []
    for ms in audio_ms:
        name = ledger.new_mark()
        ledger.audio_sent(name, ms)
        ledger.mark_placed(name)
        names.append(name)
    return names


def _balanced(ledger: PlaybackLedger) -> bool:
    marks = ledger.marks_played + ledger.marks_flushed
    marks += ledger.marks_outstanding + ledger.marks_queued
    audio = ledger.played_ms + ledger.flushed_ms + ledger.pending_ms
    return marks == ledger.marks_created and audio == ledger.sent_ms


def test_names_are_short_and_unique_per_call() -> None:
    ledger = PlaybackLedger()
    assert [ledger.new_mark() for _ in range(3)] == ["m1", "m2", "m3"]
    assert PlaybackLedger(prefix="t").new_mark() == "t1"


def test_a_new_ledger_is_settled_and_empty() -> None:
    ledger = PlaybackLedger()
    assert ledger.all_settled
    assert ledger.last_mark_name is None
    assert (ledger.sent_ms, ledger.played_ms, ledger.flushed_ms, ledger.pending_ms) == (0, 0, 0, 0)


def test_an_echo_without_a_clear_counts_the_marks_audio_as_played() -> None:
    ledger = PlaybackLedger()
    (m1,) = _placed(ledger, 40)
    assert ledger.state(m1) is MarkState.SENT
    assert ledger.pending_ms == 40
    assert not ledger.all_settled
    assert ledger.last_mark_name == m1
    assert ledger.echoed(m1)
    assert ledger.state(m1) is MarkState.PLAYED
    assert ledger.played(m1)
    assert (ledger.played_ms, ledger.flushed_ms, ledger.pending_ms) == (40, 0, 0)
    assert (ledger.marks_sent, ledger.marks_played, ledger.marks_flushed) == (1, 1, 0)
    assert ledger.all_settled


def test_an_echo_settles_every_earlier_outstanding_mark_once() -> None:
    ledger = PlaybackLedger()
    m1, m2, m3 = _placed(ledger, 20, 40, 60)
    assert ledger.echoed(m2)
    assert [ledger.state(m) for m in (m1, m2, m3)] == [
        MarkState.PLAYED,
        MarkState.PLAYED,
        MarkState.SENT,
    ]
    assert ledger.played_ms == 60
    # The late echo of m1 is not counted twice.
    assert not ledger.echoed(m1)
    assert ledger.marks_unknown == 1
    assert ledger.played_ms == 60
    assert ledger.echoed(m3)
    assert ledger.played_ms == 120
    assert ledger.marks_played == 3
    assert _balanced(ledger)


def test_after_a_clear_echoes_count_as_flushed() -> None:
    ledger = PlaybackLedger()
    m1, m2 = _placed(ledger, 20, 40)
    assert ledger.echoed(m1)
    ledger.clear()
    assert ledger.state(m2) is MarkState.CLEARED
    assert ledger.echoed(m2)
    assert ledger.state(m2) is MarkState.FLUSHED
    assert not ledger.played(m2)
    assert (ledger.played_ms, ledger.flushed_ms, ledger.pending_ms) == (20, 40, 0)
    assert (ledger.marks_played, ledger.marks_flushed) == (1, 1)
    # A mark placed after the clear plays again.
    (m3,) = _placed(ledger, 20)
    assert ledger.echoed(m3)
    assert ledger.played(m3)
    assert _balanced(ledger)


def test_a_clear_flushes_marks_never_placed_with_the_audio_sent_ahead_of_them() -> None:
    ledger = PlaybackLedger()
    m1 = ledger.new_mark()
    ledger.audio_sent(m1, 60)  # part of m1's audio went out; m1 itself is still held locally
    m2 = ledger.new_mark()  # wholly held
    assert ledger.marks_queued == 2
    settled_before = ledger.all_settled  # 60 ms at the carrier, no mark to say when it is done
    ledger.clear()
    assert ledger.state(m1) is MarkState.FLUSHED
    assert ledger.state(m2) is MarkState.FLUSHED
    assert (ledger.flushed_ms, ledger.marks_flushed, ledger.marks_sent) == (60, 2, 0)
    assert (settled_before, ledger.all_settled) == (False, True)
    # Never placed: an echo of it is unknown.
    assert not ledger.echoed(m1)
    assert ledger.marks_unknown == 1
    assert _balanced(ledger)


def test_unknown_and_queued_names_are_counted_not_raised() -> None:
    ledger = PlaybackLedger()
    queued = ledger.new_mark()
    assert not ledger.echoed("nope")
    assert not ledger.echoed(queued)
    assert ledger.marks_unknown == 2
    assert ledger.state("nope") is None
    assert ledger.state(queued) is MarkState.QUEUED


def test_marks_must_be_placed_in_creation_order() -> None:
    ledger = PlaybackLedger()
    m1, m2 = ledger.new_mark(), ledger.new_mark()
    with pytest.raises(ValueError, match="m2 placed before m1"):
        ledger.mark_placed(m2)
    ledger.mark_placed(m1)  # the failed call changed nothing
    ledger.mark_placed(m2)
    assert ledger.marks_sent == 2


def test_text_and_audio_per_mark() -> None:
    ledger = PlaybackLedger()
    m1 = ledger.new_mark()
    ledger.add_text(m1, "Hello")
    ledger.add_text(m1, " there")
    ledger.audio_sent(m1, 20)
    ledger.audio_sent(m1, 20)
    assert (ledger.text(m1), ledger.audio_ms(m1)) == ("Hello there", 40)
    assert (ledger.text("x"), ledger.audio_ms("x"), ledger.played("x")) == ("", 0, False)
    assert [record.name for record in ledger] == [m1]
    assert "Hello there" in repr(next(iter(ledger)))


def test_all_settled_waits_for_the_last_mark() -> None:
    ledger = PlaybackLedger()
    _, m2 = _placed(ledger, 20, 20)
    assert ledger.last_mark_name == m2
    assert not ledger.all_settled
    ledger.echoed(m2)
    assert ledger.all_settled

"""Transcript lines per turn, agent words attributed to marks, and what the caller heard."""

from __future__ import annotations

from gateway.core.playback import PlaybackLedger
from gateway.core.transcript import AGENT, CALLER, Transcript, TranscriptLine, as_heard


def _placed(ledger: PlaybackLedger, transcript: Transcript) -> str:
    """A model chunk's mark, created, announced to the transcript and placed."""
    mark = ledger.new_mark()
    transcript.chunk_mark(mark)
    ledger.audio_sent(mark, 20)
    ledger.mark_placed(mark)
    return mark


def test_agent_words_follow_the_latest_chunk_and_only_played_marks_are_heard() -> None:
    ledger = PlaybackLedger()
    transcript = Transcript(ledger)
    transcript.caller("What are your hours?", finished=True)
    m1 = _placed(ledger, transcript)
    transcript.agent("We open ")
    m2 = _placed(ledger, transcript)
    transcript.agent("at nine")
    transcript.agent(" and close at five.")
    assert (ledger.text(m1), ledger.text(m2)) == ("We open ", "at nine and close at five.")
    ledger.echoed(m1)
    ledger.clear()
    ledger.echoed(m2)  # flushed
    assert transcript.lines() == [
        TranscriptLine(CALLER, "What are your hours?", "What are your hours?"),
        TranscriptLine(AGENT, "We open at nine and close at five.", "We open "),
    ]
    assert not transcript.lines()[1].heard
    assert transcript.heard() == [(CALLER, "What are your hours?"), (AGENT, "We open ")]


def test_words_before_any_audio_go_to_the_next_chunks_mark() -> None:
    ledger = PlaybackLedger()
    transcript = Transcript(ledger)
    transcript.agent("Hello")
    assert transcript.lines() == [TranscriptLine(AGENT, "Hello", "")]
    m1 = _placed(ledger, transcript)
    transcript.agent(" there")
    assert ledger.text(m1) == "Hello there"
    ledger.echoed(m1)
    assert transcript.lines() == [TranscriptLine(AGENT, "Hello there", "Hello there")]
    assert transcript.lines()[0].heard


def test_a_turn_without_audio_is_never_heard_and_the_next_turn_starts_fresh() -> None:
    ledger = PlaybackLedger()
    transcript = Transcript(ledger)
    m1 = _placed(ledger, transcript)
    transcript.agent("One.")
    transcript.end_turn()
    transcript.agent("Two.")  # no audio in this turn yet: not attributed to m1
    transcript.end_turn()
    ledger.echoed(m1)
    assert transcript.lines() == [
        TranscriptLine(AGENT, "One.", "One."),
        TranscriptLine(AGENT, "Two.", ""),
    ]
    assert transcript.heard() == [(AGENT, "One.")]


def test_caller_lines_end_at_finished_or_with_the_turn_they_led_to() -> None:
    ledger = PlaybackLedger()
    transcript = Transcript(ledger)
    transcript.caller("Hi")
    transcript.caller(" there")
    transcript.agent("Hello!")
    transcript.caller(" again")  # a late piece still belongs to the open line
    transcript.end_turn()
    transcript.caller("Next")
    transcript.caller(" question", finished=True)
    transcript.caller("Another")
    assert [(line.role, line.text) for line in transcript.lines()] == [
        (CALLER, "Hi there again"),
        (AGENT, "Hello!"),
        (CALLER, "Next question"),
        (CALLER, "Another"),
    ]


def test_a_barge_in_utterance_stays_open_across_the_end_of_the_interrupted_turn() -> None:
    ledger = PlaybackLedger()
    transcript = Transcript(ledger)
    transcript.caller("Question", finished=True)
    transcript.agent("A long answer")
    transcript.caller("Wait")  # the caller talks over the agent
    transcript.end_turn()
    transcript.caller(", stop")
    assert [(line.role, line.text) for line in transcript.lines()] == [
        (CALLER, "Question"),
        (AGENT, "A long answer"),
        (CALLER, "Wait, stop"),
    ]


def test_a_line_is_timed_by_its_first_piece() -> None:
    ledger = PlaybackLedger()
    transcript = Transcript(ledger)
    transcript.caller("Hello, ", at_ms=1_200.0)
    transcript.caller("is anyone there?", finished=True, at_ms=1_900.0)
    _placed(ledger, transcript)
    transcript.agent("Yes, ", at_ms=2_400.0)
    transcript.agent("hello.", at_ms=2_700.0)
    transcript.end_turn()
    assert [(line.role, line.at_ms) for line in transcript.lines()] == [
        (CALLER, 1_200.0),
        (AGENT, 2_400.0),
    ]


def test_as_heard_cuts_agent_lines_to_what_was_heard() -> None:
    lines = [
        TranscriptLine(CALLER, " Hi. ", " Hi. ", 10.0),
        TranscriptLine(AGENT, "We open at nine.", "We open", 20.0),
        TranscriptLine(AGENT, "Cut at once.", "", 30.0),
        TranscriptLine(AGENT, "", "", 40.0),
        TranscriptLine(AGENT, "Bye.", "Bye.", 50.0),
    ]
    assert as_heard(lines) == [
        {"role": CALLER, "at_ms": 10.0, "text": "Hi."},
        {"role": AGENT, "at_ms": 20.0, "text": "We open", "generated": "We open at nine."},
        {"role": AGENT, "at_ms": 30.0, "text": "", "generated": "Cut at once."},
        {"role": AGENT, "at_ms": 50.0, "text": "Bye."},
    ]

"""Recorded calls through the real gateway for every carrier built on the translator seam.

For each carrier of `carrier_cases.CASES`, two recordings are played in real time (all calls at
once, each against its own gateway and emulator): `interrupt` (a barge-in) and `dtmf_menu` (a
key press). Three views of each call are compared: what the simulated carrier sent and heard,
what the emulator (the model) received, and the gateway's `call.ended` summary.
"""

from __future__ import annotations

import asyncio
import functools

import numpy as np
import pytest

from gateway.sim.entries import CallOutcome
from gateway.sim.telnyx import TelnyxDialect
from tests.e2e.carrier_cases import CASES, Placed, place
from tests.e2e.harness import best_correlation, run_real_time, uplink_reference

RECORDINGS = ("interrupt", "dtmf_menu")
CROSSING_MS = 250.0
"""How long before a clear a played mark's echo may still reach the gateway after it."""
CALLS = [(carrier, recording) for carrier in CASES for recording in RECORDINGS]


def _samples(ms: float) -> int:
    return round(ms * 8)


@functools.cache
def placed() -> dict[tuple[str, str], Placed]:
    """Every carrier's calls, placed once per test session (about 13 s of real-time audio)."""

    async def all_calls() -> list[Placed]:
        return await asyncio.gather(*(place(CASES[c], r) for c, r in CALLS))

    return {(p.case.name, p.recording.path.stem): p for p in run_real_time(all_calls())}


@pytest.fixture(params=CALLS, ids=[f"{c}-{r}" for c, r in CALLS])
def call(request: pytest.FixtureRequest) -> Placed:
    key: tuple[str, str] = request.param
    return placed()[key]


def test_the_call_completes_cleanly(call: Placed) -> None:
    assert call.report.outcome is CallOutcome.COMPLETED
    assert call.report.errors == ()
    summary = call.call.summary
    assert call.call.carrier == call.case.name
    assert summary["end_reason"] == call.case.end_reason
    assert summary["illegal_events"] == 0
    assert summary["messages_missed"] == 0
    assert summary["messages_ignored"] == 0


def test_live_received_exactly_the_callers_audio_at_16k(call: Placed) -> None:
    received = call.session.audio()
    reference = uplink_reference(call.report.said, call.case.codec())
    speech = uplink_reference(call.recording.script.audio, call.case.codec())
    assert call.session.audio_rates_hz == {16_000}
    assert len(received) >= len(speech)
    assert np.array_equal(received, reference[: len(received)])


def test_the_caller_hears_an_answer_to_each_utterance(call: Placed) -> None:
    report = call.report
    utterances = call.recording.script.utterances
    # The caller talks over the answer to the utterance before the barge-in (the recording's
    # hint): how much of it plays before the clear depends on the carrier's chunking (Exotel
    # plays 100-200 ms chunks) and on the load, so for it only that it started is checked.
    talked_over = int(call.recording.hints.get("barge_in_utterance", 0)) - 2
    for index, utterance in enumerate(utterances):
        following = utterances[index + 1].start_ms if index + 1 < len(utterances) else None
        probe = report.said[_samples(utterance.start_ms) : _samples(utterance.start_ms + 400)]
        end_ms = following + 1000 if following is not None else len(report.heard) / 8
        heard = report.heard[_samples(utterance.start_ms) : _samples(end_ms)]
        if index == talked_over:
            assert heard.any(), f"no answer to utterance {index + 1} before the barge-in"
            continue
        assert best_correlation(heard, probe) > 0.9, f"no echo of utterance {index + 1}"


def test_marks_account_for_what_was_heard(call: Placed) -> None:
    summary = call.call.summary
    marks = call.report.marks
    assert summary["marks_sent"] == len(marks) > 0
    # A mark that played just before a clear but whose echo crossed the clear on the wire (or
    # waited in a busy gateway's socket) is counted flushed by the gateway: protocols.md B.4,
    # a returned mark means "played or flushed". Only such marks may differ.
    played = [m for m in marks if m.played]
    crossing = [
        m
        for m in played
        if m.echoed_ms is not None
        and any(m.echoed_ms > c.at_ms - CROSSING_MS for c in call.report.clears)
    ]
    assert len(played) - len(crossing) <= summary["marks_played"] <= len(played)
    assert summary["pending_ms"] == 0
    assert summary["sent_ms"] == summary["played_ms"] + summary["flushed_ms"]


@pytest.mark.parametrize("carrier", list(CASES))
def test_barge_in_clears_playback_and_no_stale_audio_follows(carrier: str) -> None:
    call = placed()[(carrier, "interrupt")]
    report = call.report
    second = call.recording.script.utterances[1]
    assert call.call.summary["interruptions"] >= 1
    assert report.clears
    clear = report.clears[0]
    assert second.start_ms < clear.at_ms < second.end_ms + 1000
    assert clear.dropped_ms > 0
    gap = report.heard[_samples(clear.at_ms + 5) : _samples(second.end_ms)]
    assert not gap.any()


@pytest.mark.parametrize("carrier", list(CASES))
def test_dtmf_reaches_the_model_as_text(carrier: str) -> None:
    call = placed()[(carrier, "dtmf_menu")]
    digits = [press.digit for press in call.recording.script.dtmf]
    assert digits
    assert call.call.summary["dtmf_digits"] == len(digits)
    assert call.session.texts == [f"The caller pressed {d} on the keypad." for d in digits]


def test_telnyx_frames_that_arrived_out_of_order_were_put_back() -> None:
    for recording in RECORDINGS:
        dialect = placed()[("telnyx", recording)].dialect
        assert isinstance(dialect, TelnyxDialect)
        assert dialect.stream is not None
        assert dialect.stream.swapped > 50  # and yet the model heard the audio exactly in order

"""Reading a call's audio: speech segments, answer latency, barge-ins; the report's forms."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import numpy.typing as npt

from gateway.sim.analysis import answer_latency_ms, barge_ins, frame_levels_dbfs, speech_segments
from gateway.sim.dialect import Verb
from gateway.sim.entries import (
    BargeIn,
    CallOutcome,
    ClearRecord,
    MarkRecord,
    Segment,
    SimError,
    TimelineEntry,
)
from gateway.sim.report import CallReport, report_to_json
from gateway.sim.timeline import format_timeline


def signal(
    *spans: tuple[int, int], total_ms: int = 3000, level: int = 3000
) -> npt.NDArray[np.int16]:
    out = np.zeros(total_ms * 8, dtype=np.int16)
    t = np.arange(total_ms * 8) / 8000
    tone = (level * np.sin(2 * np.pi * 300 * t)).astype(np.int16)
    for start, end in spans:
        out[start * 8 : end * 8] = tone[start * 8 : end * 8]
    return out


def test_frame_levels() -> None:
    levels = frame_levels_dbfs(np.full(800, 3277, dtype=np.int16))
    assert len(levels) == 10
    assert np.allclose(levels, 20 * np.log10(3277 / 32768))
    assert frame_levels_dbfs(np.zeros(80, np.int16))[0] < -150


def test_segments_bridge_short_gaps_and_drop_clicks() -> None:
    audio = signal((100, 400), (550, 800), (1500, 1520), (2000, 2500))
    assert speech_segments(audio) == [Segment(100, 800), Segment(2000, 2500)]
    assert speech_segments(audio, merge_gap_ms=100) == [
        Segment(100, 400),
        Segment(550, 800),
        Segment(2000, 2500),
    ]
    assert speech_segments(audio, threshold_dbfs=-10) == []


def test_answer_latency_is_from_the_first_utterance_end_to_the_next_audible_audio() -> None:
    caller = [Segment(100, 900, "hi"), Segment(3000, 3500)]
    heard = [Segment(0, 50), Segment(1700, 2500)]  # a greeting before does not count
    assert answer_latency_ms(caller, heard) == 800
    assert answer_latency_ms(caller, [Segment(0, 50)]) is None
    assert answer_latency_ms([], heard) is None


def test_barge_ins_from_audible_audio_alone() -> None:
    caller = [Segment(0, 500, "first"), Segment(1500, 2000, "over"), Segment(4000, 4500)]
    heard = [Segment(1000, 1800), Segment(3000, 3900)]
    found = barge_ins(caller, heard, [ClearRecord(1790, 500, 1)])
    assert found == [BargeIn(1500, 1800, cleared=True, text="over")]
    assert found[0].talk_over_ms == 300
    # A clear in a pause shortly after the audible end still counts; one long after does not.
    assert barge_ins(caller, heard, [ClearRecord(2000, 0, 0)])[0].cleared
    assert not barge_ins(caller, heard, [ClearRecord(2500, 0, 0)])[0].cleared
    assert not barge_ins(caller, heard, [ClearRecord(1400, 0, 0)])[0].cleared


def test_a_barge_in_during_a_quiet_moment_of_playing_audio_counts() -> None:
    # The answer is audible until 5530, still playing (a quiet phoneme) when the caller starts
    # at 5580, and the clear at 5624 stops the playback.
    caller = [Segment(500, 4080), Segment(5580, 7820, "sorry")]
    heard = [Segment(4980, 5530)]
    playing = [Segment(4900, 5624)]
    found = barge_ins(caller, heard, [ClearRecord(5624, 220, 6)], playing)
    assert found == [BargeIn(5580, 5624, cleared=True, text="sorry")]
    # Without the playing intervals, energy alone misses it.
    assert barge_ins(caller, heard, [ClearRecord(5624, 220, 6)]) == []


def test_no_barge_in_once_the_playback_has_stopped_or_only_silence_runs_on() -> None:
    caller = [Segment(5580, 7820)]
    heard = [Segment(4980, 5530)]
    assert barge_ins(caller, heard, [], [Segment(4900, 5540)]) == []
    # Trailing silence still queued, and nobody cut it: the answer was over.
    assert barge_ins(caller, heard, [], [Segment(4900, 6000)]) == []
    # A clear long after the quiet moment did not cut this playback.
    assert barge_ins(caller, heard, [ClearRecord(7000, 0, 0)], [Segment(4900, 6000)]) == []


def test_a_gateway_streaming_silence_is_not_speaking() -> None:
    caller = [Segment(3000, 3500), Segment(6000, 6500)]
    heard = [Segment(1000, 2000), Segment(3200, 4000)]
    playing = [Segment(0, 10_000)]  # silence frames all along
    assert barge_ins(caller, heard, [], playing) == []
    # Speaking over audible audio in such a stream: stops at the audible end, no clear.
    talk_over = barge_ins([Segment(3500, 3900)], heard, [], playing)
    assert talk_over == [BargeIn(3500, 4000, cleared=False)]


def report() -> CallReport:
    said = signal((500, 1500))
    heard = signal((2000, 2800))
    return CallReport(
        carrier="twilio",
        call_sid="CA1",
        outcome=CallOutcome.COMPLETED,
        webhook_url="http://127.0.0.1:8080/twilio/voice",
        webhook_status=200,
        twiml="<Response/>",
        verbs_after=(Verb("Say", "Goodbye"),),
        stream_url="ws://127.0.0.1:8080/twilio/media",
        stream_sid="MZ1",
        custom_parameters={"token": "a-very-long-stream-token-value"},
        said=said,
        heard=heard,
        timeline=(
            TimelineEntry(-12, "webhook", "POST -> HTTP 200"),
            TimelineEntry(0, "sent.start", "stream MZ1"),
            TimelineEntry(2800, "received.mark", "m1 (0 ms queued)"),
        ),
        marks=(
            MarkRecord("m1", 2800, queued_ms=0, due_ms=2800, echoed_ms=2810, played=True),
            MarkRecord("m2", 2900, queued_ms=100),
        ),
        caller_utterances=(Segment(500, 1500, "Hello there"),),
        agent_segments=(Segment(2000, 2800),),
        answer_latency_ms=500,
        media_frames_sent=150,
        media_frames_received=40,
        media_bytes_received=6400,
    )


def test_format_timeline_reads_like_the_call() -> None:
    text = format_timeline(report())
    lines = text.splitlines()
    assert lines[0] == "twilio call CA1 -> http://127.0.0.1:8080/twilio/voice: HTTP 200"
    assert "answer latency: 0.500 s" in text
    assert "token=a-very-long-…" in text  # tokens are shortened
    assert "a-very-long-stream-token-value" not in text
    assert "twiml after the stream: <Say> Goodbye" in text
    assert "marks: 2 received, 1 echoed as played, 0 flushed by clear, 1 never echoed" in text
    body = lines[lines.index("       t  event") + 1 :]
    assert body[0].split() == ["-0.012", "webhook", "POST", "->", "HTTP", "200"]
    assert "   0.500  caller: Hello there [1.00 s]" in body
    assert "   2.000  agent: audio 0.80 s" in body
    times = [float(line.split()[0]) for line in body]
    assert times == sorted(times)


def test_format_timeline_of_a_failed_call_has_no_stream_section() -> None:
    failed = CallReport(
        carrier="twilio",
        call_sid="CA2",
        outcome=CallOutcome.WEBHOOK_FAILED,
        webhook_url="http://x/twilio/voice",
        errors=(SimError(0, 11200, "webhook request failed"),),
    )
    text = format_timeline(failed)
    assert "HTTP no answer" in text
    assert "error 11200 at 0.000 s: webhook request failed" in text
    assert "answer latency" not in text


def test_report_to_json_is_plain_data_without_audio() -> None:
    data = report_to_json(report())
    text = json.dumps(data)  # serialisable as is
    assert data["outcome"] == "completed"
    assert data["ok"] is True
    assert data["said_samples"] == data["heard_samples"] == 24000
    assert "said" not in data
    assert data["marks"][0] == {
        "name": "m1",
        "sent_ms": 2800,
        "queued_ms": 0,
        "due_ms": 2800,
        "echoed_ms": 2810,
        "played": True,
    }
    assert data["verbs_after"] == [{"kind": "Say", "text": "Goodbye", "attributes": []}]
    assert data["duration_ms"] == 3000
    assert data["heard_ms"] == 800
    assert "Hello there" in text


def test_mark_runs_are_condensed_by_fate_and_split_by_other_events() -> None:
    marks = (
        MarkRecord("a1", 100, queued_ms=20, due_ms=120, echoed_ms=121, played=True),
        MarkRecord("a2", 110, queued_ms=40, due_ms=140, echoed_ms=141, played=True),
        MarkRecord("a3", 300, queued_ms=60, due_ms=360, echoed_ms=361, played=True),  # after agent
        MarkRecord("b1", 310, queued_ms=80, due_ms=400, echoed_ms=400, played=False),
        MarkRecord("b2", 320, queued_ms=90, due_ms=400, echoed_ms=400, played=False),
        MarkRecord("c1", 900, queued_ms=500),
    )
    base = report()
    condensed = dataclasses.replace(
        base, marks=marks, agent_segments=(Segment(200, 800),), timeline=(), caller_utterances=()
    )
    body = format_timeline(condensed).split("       t  event\n")[1].splitlines()
    assert body == [
        "   0.100  marks           a1 … a2 (2): played, echoed 0.121-0.141 s",
        "   0.200  agent: audio 0.60 s",
        "   0.300  mark            a3 (60 ms queued): played, echoed at 0.361 s",
        "   0.310  marks           b1 … b2 (2): flushed by clear, echoed at 0.400 s",
        "   0.900  mark            c1 (500 ms queued): never echoed (the call ended first)",
    ]
    every = format_timeline(
        dataclasses.replace(base, timeline=(TimelineEntry(100, "received.mark", "a1"),)),
        every_message=True,
    )
    assert "received.mark   a1" in every
    assert "marks " not in every

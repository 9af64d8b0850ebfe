"""A dial-out's status as the carrier's callbacks and the gateway's facts move it."""

from __future__ import annotations

import json
from dataclasses import replace

from gateway.carriers.dial import Answerer, CallProgress, DialProgress, MachineDetection
from gateway.outbound.status import (
    DialOut,
    DialStatus,
    EndReason,
    MachineMove,
    decode,
    encode,
    machine_move,
    merged,
)


def dial(detection: MachineDetection = MachineDetection.OFF) -> DialOut:
    return DialOut("dial_1", "twilio", "+15550104242", "+15550100000", "default", detection, 1_000)


def progress(
    what: CallProgress | None, who: Answerer | None = None, ended: bool = False
) -> DialProgress:
    return DialProgress("CA1", what, who, ended)


def test_a_person_answers_and_hangs_up() -> None:
    d = dial().placed("CA1")
    d = d.progressed(progress(CallProgress.RINGING), 1_500)
    assert d.status is DialStatus.RINGING
    d = d.progressed(progress(CallProgress.ANSWERED), 5_000)
    assert (d.status, d.time_to_answer_ms) == (DialStatus.ANSWERED, 4_000)
    d = d.bridged(5_100)
    assert d.status is DialStatus.IN_PROGRESS
    assert d.time_to_answer_ms == 4_000
    d = d.progressed(progress(CallProgress.COMPLETED), 60_000)
    assert (d.status, d.end_reason, d.ended_ms) == (DialStatus.ENDED, EndReason.COMPLETED, 60_000)
    assert d.to_json()["end_reason"] == "completed"


def test_busy_no_answer_failed() -> None:
    for what, reason in [
        (CallProgress.BUSY, EndReason.BUSY),
        (CallProgress.NO_ANSWER, EndReason.NO_ANSWER),
        (CallProgress.FAILED, EndReason.FAILED),
        (CallProgress.CANCELED, EndReason.CANCELED),
    ]:
        d = dial().progressed(progress(CallProgress.RINGING), 2).progressed(progress(what), 3)
        assert (d.status, d.end_reason, d.answered_ms) == (DialStatus.ENDED, reason, None)


def test_completed_without_an_answer_is_no_answer() -> None:
    d = dial().progressed(progress(CallProgress.COMPLETED), 9)
    assert d.end_reason is EndReason.NO_ANSWER


def test_late_or_backward_progress_is_ignored_and_an_end_is_final() -> None:
    d = dial().bridged(2_000)
    assert d.progressed(progress(CallProgress.RINGING), 2_100) == d
    ended = d.end(EndReason.COMPLETED, 3_000)
    assert ended.progressed(progress(CallProgress.BUSY), 4_000) == ended
    assert ended.bridged(5_000) == ended


def test_machine_hang_up() -> None:
    before = dial(MachineDetection.HANG_UP).bridged(2_000)
    after = before.progressed(progress(None, Answerer.MACHINE, ended=True), 3_000)
    assert after.answered_by is Answerer.MACHINE
    assert machine_move(before, after) is MachineMove.HANG_UP
    assert machine_move(after, after) is MachineMove.NONE  # a repeated verdict: once
    from dataclasses import replace

    hung = replace(after, hung_up_on_machine=True).end(EndReason.COMPLETED, 4_000)
    assert hung.end_reason is EndReason.MACHINE_HUNG_UP


def test_a_person_or_no_detection_moves_nothing() -> None:
    before = dial(MachineDetection.HANG_UP).bridged(2_000)
    person = before.progressed(progress(None, Answerer.PERSON), 2_500)
    assert machine_move(before, person) is MachineMove.NONE
    off = dial().bridged(2_000)
    machine = off.progressed(progress(None, Answerer.MACHINE, ended=True), 2_500)
    assert machine_move(off, machine) is MachineMove.NONE


def test_leave_voicemail_speaks_once_the_greeting_ended() -> None:
    before = dial(MachineDetection.LEAVE_VOICEMAIL).bridged(2_000)
    detected = before.progressed(progress(None, Answerer.MACHINE), 2_500)
    assert machine_move(before, detected) is MachineMove.NONE
    beep = detected.progressed(progress(None, Answerer.MACHINE, ended=True), 6_000)
    assert machine_move(detected, beep) is MachineMove.SPEAK_VOICEMAIL
    left = beep.__class__(**{**beep.__dict__, "voicemail_left": True})
    assert left.end(EndReason.COMPLETED, 9_000).end_reason is EndReason.VOICEMAIL_LEFT


def test_a_leg_id_names_the_call_once_known() -> None:
    d = dial().placed("req-1")
    assert d.call_id == "req-1"
    d = d.progressed(DialProgress("req-1", CallProgress.RINGING, leg_id="leg-1"), 2)
    assert (d.carrier_call_id, d.leg_id, d.call_id) == ("req-1", "leg-1", "leg-1")


def test_two_replicas_views_merge_into_the_furthest_with_every_fact() -> None:
    placed = dial(MachineDetection.HANG_UP).placed("CA1")
    # one replica heard the verdict while another bridged the stream
    heard = placed.progressed(progress(None, Answerer.MACHINE, ended=True), 4_000)
    bridged = placed.bridged(3_000)
    both = merged(heard, bridged)
    assert (both.status, both.answered_by, both.greeting_ended) == (
        DialStatus.IN_PROGRESS,
        Answerer.MACHINE,
        True,
    )
    assert both.answered_ms == 3_000
    assert merged(bridged, heard) == both
    ended = replace(bridged, hung_up_on_machine=True).end(EndReason.COMPLETED, 9_000)
    late = merged(ended, heard.progressed(progress(CallProgress.RINGING), 9_500))
    assert (late.status, late.end_reason, late.answered_by) == (
        DialStatus.ENDED,
        EndReason.MACHINE_HUNG_UP,
        Answerer.MACHINE,
    )


def test_a_dial_out_survives_its_json() -> None:
    d = dial(MachineDetection.LEAVE_VOICEMAIL).placed("CA1")
    d = d.progressed(DialProgress("CA1", CallProgress.ANSWERED, Answerer.MACHINE, True, "L1"), 5)
    d = replace(d, voicemail_left=True).end(EndReason.COMPLETED, 9)
    assert decode(json.loads(json.dumps(encode(d)))) == d
    assert decode(json.loads(json.dumps(encode(dial())))) == dial()

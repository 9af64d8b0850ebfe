"""The uplink pacing schedule: 20 ms frames due by samples sent, DTMF at its time, then stop."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from gateway.sim.schedule import SendDtmf, SendFrame, SendStop, UplinkSchedule
from gateway.sim.script import CallScript, DtmfPress


def ramp(samples: int) -> npt.NDArray[np.int16]:
    return (np.arange(samples) % 1000 + 1).astype(np.int16)


def test_frame_k_is_due_once_its_last_sample_was_spoken() -> None:
    schedule = UplinkSchedule(CallScript(ramp(800), tail_ms=0))  # 100 ms: 5 frames
    assert schedule.frame_count == 5
    assert schedule.next_due_ms() == 20
    assert schedule.take_due(19.999) == []
    items = schedule.take_due(20)
    assert len(items) == 1
    frame = items[0]
    assert isinstance(frame, SendFrame)
    assert (frame.index, frame.at_ms, frame.timestamp_ms) == (0, 20, 0)
    assert np.array_equal(frame.samples, ramp(160))


def test_a_late_wake_up_sends_every_overdue_frame_at_once_without_drift() -> None:
    schedule = UplinkSchedule(CallScript(ramp(8000), tail_ms=0))
    first = schedule.take_due(95)  # woke up late: frames 0..3 are overdue
    assert [item.at_ms for item in first] == [20, 40, 60, 80]
    assert schedule.next_due_ms() == 100  # not 95 + 20: deadlines come from samples sent
    rest = schedule.take_due(10_000)
    frames = [item for item in first + rest if isinstance(item, SendFrame)]
    assert [f.timestamp_ms for f in frames] == list(range(0, 1000, 20))
    assert isinstance(rest[-1], SendStop)


def test_ten_minutes_of_frames_land_exactly_on_the_20_ms_grid() -> None:
    schedule = UplinkSchedule(CallScript(np.zeros(0, np.int16), tail_ms=600_000))
    assert schedule.frame_count == 30_000
    items = schedule.take_due(600_000)
    assert items[-2].at_ms == 600_000.0
    assert isinstance(items[-1], SendStop)


def test_the_tail_is_silence_and_a_partial_last_frame_is_padded() -> None:
    script = CallScript(ramp(250), tail_ms=10)  # 31.25 ms + 10 ms -> 3 frames (60 ms)
    schedule = UplinkSchedule(script)
    assert schedule.frame_count == 3
    items = schedule.take_due(1_000)
    frames = [item for item in items if isinstance(item, SendFrame)]
    sent = np.concatenate([f.samples for f in frames])
    assert np.array_equal(sent[:250], ramp(250))
    assert np.all(sent[250:] == 0)
    assert np.array_equal(schedule.sent_audio(), sent)
    assert items[-1] == SendStop(60)


def test_dtmf_goes_out_between_frames_at_its_time_frames_first_on_a_tie() -> None:
    script = CallScript(
        ramp(800), dtmf=(DtmfPress(40, "2"), DtmfPress(30, "1")), tail_ms=0
    )  # unsorted on purpose: CallScript sorts
    items = UplinkSchedule(script).take_due(1_000)
    kinds = [(type(item).__name__, item.at_ms, getattr(item, "digit", None)) for item in items]
    assert kinds == [
        ("SendFrame", 20, None),
        ("SendDtmf", 30, "1"),
        ("SendFrame", 40, None),
        ("SendDtmf", 40, "2"),
        ("SendFrame", 60, None),
        ("SendFrame", 80, None),
        ("SendFrame", 100, None),
        ("SendStop", 100, None),
    ]


def test_dtmf_at_the_very_end_still_goes_before_stop() -> None:
    items = UplinkSchedule(CallScript(ramp(160), dtmf=(DtmfPress(20, "#"),), tail_ms=0)).take_due(
        100
    )
    assert [type(i) for i in items] == [SendFrame, SendDtmf, SendStop]


def test_after_stop_nothing_is_due() -> None:
    schedule = UplinkSchedule(CallScript(ramp(160), tail_ms=0))
    schedule.take_due(100)
    assert schedule.stopped
    assert schedule.next_due_ms() is None
    assert schedule.take_due(1e9) == []


def test_script_validation() -> None:
    with pytest.raises(ValueError, match="1-D int16"):
        CallScript(np.zeros(10, np.float32))
    with pytest.raises(ValueError, match="after the end"):
        CallScript(ramp(160), dtmf=(DtmfPress(5000, "1"),), tail_ms=0)
    with pytest.raises(ValueError, match="digit"):
        DtmfPress(0, "x")
    with pytest.raises(ValueError, match="tail_ms"):
        CallScript(ramp(160), tail_ms=-1)

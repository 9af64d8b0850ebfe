"""`CallScript.after`: the rest of a call for its next stream (what was said before is gone)."""

from __future__ import annotations

import numpy as np

from gateway.sim.script import CallScript, DtmfPress, Utterance


def test_the_rest_of_the_call_keeps_its_end_and_shifts_its_events() -> None:
    audio = np.arange(8_000 * 3, dtype=np.int16)  # 3 s
    script = CallScript(
        audio,
        dtmf=(DtmfPress(500.0, "1"), DtmfPress(2_500.0, "2")),
        utterances=(Utterance(0.0, 1_000.0, "a"), Utterance(1_500.0, 2_800.0, "b")),
        tail_ms=1_000.0,
    )
    rest = script.after(2_000.0)
    assert np.array_equal(rest.audio, audio[16_000:])
    assert rest.duration_ms == script.duration_ms - 2_000.0
    assert rest.dtmf == (DtmfPress(500.0, "2"),)
    assert rest.utterances == (Utterance(0.0, 800.0, "b"),)
    late = script.after(3_500.0)  # in the tail: silence until the end
    assert len(late.audio) == 0
    assert late.tail_ms == 500.0

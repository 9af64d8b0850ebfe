"""CallRecorder: stereo "as heard" placement, barge-in, settling by take(), bounded memory."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.audio import g711
from gateway.audio.paths import CarrierFormat, Encoding
from gateway.core.recording import CallRecorder

L16 = CarrierFormat(Encoding.L16, 8_000)
MULAW = CarrierFormat(Encoding.MULAW, 8_000)
ALAW = CarrierFormat(Encoding.ALAW, 8_000)


def pcm(values: list[int] | range) -> bytes:
    return np.asarray(list(values), dtype="<i2").tobytes()


def channels(frames: bytes) -> tuple[list[int], list[int]]:
    pairs = np.frombuffer(frames, dtype="<i2").reshape(-1, 2)
    return pairs[:, 0].tolist(), pairs[:, 1].tolist()


def test_caller_audio_is_the_left_channel_and_the_clock() -> None:
    rec = CallRecorder(L16)
    rec.caller(pcm(range(1, 11)))
    left, right = channels(rec.take())
    assert left == list(range(1, 11))
    assert right == [0] * 10
    assert rec.caller_ms == pytest.approx(10 / 8)
    assert rec.rate_hz == 8_000


def test_frames_interleave_left_then_right() -> None:
    rec = CallRecorder(L16)
    rec.agent(pcm([-7, -8]))
    rec.caller(pcm([100, 200]))
    assert rec.take() == pcm([100, -7, 200, -8])


def test_agent_audio_queued_ahead_plays_back_to_back() -> None:
    rec = CallRecorder(L16)
    rec.caller(pcm([1] * 10))
    rec.agent(pcm([11] * 5))
    rec.agent(pcm([22] * 5))  # queued while the first still plays: right after it
    rec.caller(pcm([1] * 30))
    _, right = channels(rec.take())
    assert right == [0] * 10 + [11] * 5 + [22] * 5 + [0] * 20


def test_agent_audio_after_the_queue_ran_dry_starts_at_the_clock() -> None:
    rec = CallRecorder(L16)
    rec.agent(pcm([5] * 4))  # plays 0..4
    rec.caller(pcm([0] * 10))
    rec.agent(pcm([6] * 3))  # the queue ended at 4; now is 10
    rec.caller(pcm([0] * 5))
    _, right = channels(rec.take())
    assert right == [5] * 4 + [0] * 6 + [6] * 3 + [0] * 2


def test_clear_drops_exactly_the_unplayed_part() -> None:
    rec = CallRecorder(L16)
    rec.caller(pcm([0] * 10))
    rec.agent(pcm(range(100, 120)))  # queued at 10..30
    rec.caller(pcm([0] * 5))  # now 15: 100..104 played
    rec.clear()
    rec.agent(pcm([9] * 3))  # after a clear the queue starts at the clock
    rec.caller(pcm([0] * 10))
    _, right = channels(rec.take())
    assert right == [0] * 10 + list(range(100, 105)) + [9] * 3 + [0] * 7
    assert rec.agent_heard_ms == pytest.approx(8 / 8)
    assert rec.agent_cleared_ms == pytest.approx(15 / 8)


def test_clear_after_a_take_drops_the_queued_remainder() -> None:
    rec = CallRecorder(L16)
    rec.agent(pcm(range(1, 21)))  # 0..20
    rec.caller(pcm([0] * 8))
    first = rec.take()
    rec.caller(pcm([0] * 2))  # 8..10 play
    rec.clear()
    rec.caller(pcm([0] * 10))
    _, right = channels(first + rec.take())
    assert right == list(range(1, 11)) + [0] * 10
    assert rec.agent_cleared_ms == pytest.approx(10 / 8)


def test_clear_with_nothing_queued_changes_nothing() -> None:
    rec = CallRecorder(L16)
    rec.agent(pcm([3] * 2))
    rec.caller(pcm([0] * 5))
    rec.clear()
    rec.caller(pcm([0] * 1))
    _, right = channels(rec.take())
    assert right == [3, 3, 0, 0, 0, 0]
    assert rec.agent_cleared_ms == 0.0
    assert rec.agent_heard_ms == pytest.approx(2 / 8)


def test_agent_heard_counts_only_what_played_before_the_clock() -> None:
    rec = CallRecorder(L16)
    rec.agent(pcm([1] * 80))
    assert rec.agent_heard_ms == 0.0
    rec.caller(pcm([0] * 40))
    assert rec.agent_heard_ms == pytest.approx(5.0)
    rec.caller(pcm([0] * 80))
    assert rec.agent_heard_ms == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("fmt", "decode"), [(MULAW, g711.ulaw_decode), (ALAW, g711.alaw_decode)], ids=["ulaw", "alaw"]
)
def test_g711_payloads_decode_like_g711(
    fmt: CarrierFormat, decode: Callable[[bytes], bytes]
) -> None:
    caller = bytes(range(256))
    agent = bytes(reversed(range(256)))
    rec = CallRecorder(fmt)
    rec.agent(agent)
    rec.caller(caller)
    left, right = channels(rec.take())
    assert pcm(left) == decode(caller)
    assert pcm(right) == decode(agent)


def test_an_odd_trailing_l16_byte_is_ignored() -> None:
    rec = CallRecorder(L16)
    rec.caller(pcm([1, 2]) + b"\x7f")
    rec.agent(pcm([3]) + b"\x01")
    rec.caller(pcm([4]))  # the agent sample plays from the clock (2) on, beside this one
    assert rec.take() == pcm([1, 0, 2, 0, 4, 3])
    assert rec.caller_ms == pytest.approx(3 / 8)


def test_take_never_returns_a_sample_twice_and_misses_none() -> None:
    rec = CallRecorder(L16)
    out = [rec.take()]
    for i in range(10):
        rec.agent(pcm([-i] * 2))
        rec.caller(pcm([i] * 3))
        out.append(rec.take())
        out.append(rec.take())  # nothing new: nothing again
    out.append(rec.finish())
    left, right = channels(b"".join(out))
    assert left == [i for i in range(10) for _ in range(3)]
    assert right == [x for i in range(10) for x in (-i, -i, 0)]
    assert out[0] == b""
    assert all(chunk == b"" for chunk in out[2:-1:2])


def test_finish_drops_agent_audio_beyond_the_clock_then_does_nothing() -> None:
    rec = CallRecorder(L16)
    rec.caller(pcm([1] * 4))
    first = rec.take()
    rec.agent(pcm(range(10, 20)))  # 4..14
    rec.caller(pcm([1] * 3))  # now 7: 10, 11, 12 heard
    frames = rec.finish()
    _, right = channels(first + frames)
    assert right == [0] * 4 + [10, 11, 12]
    assert rec.agent_heard_ms == pytest.approx(3 / 8)
    assert rec.agent_cleared_ms == 0.0  # not a barge-in: the call ended
    rec.caller(pcm([1] * 5))
    rec.agent(pcm([1] * 5))
    rec.clear()
    assert rec.take() == b""
    assert rec.finish() == b""
    assert rec.caller_ms == pytest.approx(7 / 8)
    assert rec.pending_bytes == 0


def test_memory_is_trimmed_to_what_was_not_taken() -> None:
    rec = CallRecorder(MULAW)
    second = bytes([0x55]) * 8_000
    for _ in range(600):  # ten minutes, a take every second
        rec.agent(second[:1_600])  # 200 ms of agent audio each second
        for frame in range(50):
            rec.caller(second[frame * 160 : (frame + 1) * 160])
        assert len(rec.take()) == 8_000 * 4
        assert rec.pending_bytes == 0
    rec.agent(second[:800])
    rec.caller(second[:160])
    rec.take()
    # Only the 640 agent samples still queued beyond the clock are kept.
    assert rec.pending_bytes == 640
    assert rec.caller_ms == pytest.approx(600_020.0)


OP: st.SearchStrategy[tuple[str, list[int]]] = st.one_of(
    st.tuples(st.just("caller"), st.lists(st.integers(-32768, 32767), max_size=12)),
    st.tuples(st.just("agent"), st.lists(st.integers(-32768, 32767), max_size=12)),
    st.tuples(st.just("clear"), st.just([])),
    st.tuples(st.just("take"), st.just([])),
)


class Model:
    """The semantics spelled out sample by sample."""

    def __init__(self) -> None:
        self.left: list[int] = []
        self.right: dict[int, int] = {}
        self.end = 0

    def apply(self, op: str, values: list[int]) -> None:
        clock = len(self.left)
        if op == "caller":
            self.left += values
        elif op == "agent":
            start = max(clock, self.end)
            for i, v in enumerate(values):
                self.right[start + i] = v
            self.end = start + len(values)
        elif op == "clear":
            self.right = {t: v for t, v in self.right.items() if t < clock}
            self.end = clock

    def frames(self) -> bytes:
        return pcm([x for t, v in enumerate(self.left) for x in (v, self.right.get(t, 0))])


@settings(max_examples=300, deadline=None)
@given(st.lists(OP, max_size=40))
def test_any_sequence_matches_the_sample_model(ops: list[tuple[str, list[int]]]) -> None:
    rec = CallRecorder(L16)
    model = Model()
    out = []
    for op, values in ops:
        model.apply(op, values)
        if op == "take":
            out.append(rec.take())
        else:
            getattr(rec, op)(*([pcm(values)] if op in ("caller", "agent") else []))
    out.append(rec.finish())
    assert b"".join(out) == model.frames()
    heard = sum(1 for t in model.right if t < len(model.left))
    assert rec.agent_heard_ms == pytest.approx(heard / 8)


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=400),
    st.binary(max_size=300),
    st.lists(st.integers(0, 400), max_size=8),
    st.lists(st.integers(0, 300), max_size=8),
)
def test_many_small_calls_equal_one_big_call(
    caller: bytes, agent: bytes, caller_cuts: list[int], agent_cuts: list[int]
) -> None:
    whole = CallRecorder(MULAW)
    whole.agent(agent)
    whole.caller(caller)
    expected = whole.finish()

    pieces = CallRecorder(MULAW)
    out = []
    for payload in _split(agent, agent_cuts):
        pieces.agent(payload)
        out.append(pieces.take())
    for payload in _split(caller, caller_cuts):
        pieces.caller(payload)
        out.append(pieces.take())
    out.append(pieces.finish())
    assert b"".join(out) == expected
    assert len(expected) == 4 * len(caller)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    edges = [0, *sorted(min(c, len(data)) for c in cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


# --------------------------------------------------- real time when the caller's frames run late

FRAME_8K = 160  # 20 ms


def test_late_caller_frames_do_not_pull_the_agent_early() -> None:
    rec = CallRecorder(L16)
    for n in range(1, 6):  # 100 ms of caller audio, each frame on time (20 ms apart)
        rec.caller(pcm([1] * FRAME_8K), now_ms=1_000.0 + 20 * n)
    # The caller's next frames stall for 200 ms; the agent's answer is sent meanwhile, at 300 ms.
    rec.agent(pcm([-5] * FRAME_8K), now_ms=1_300.0)
    for _ in range(6, 21):  # the stalled frames arrive in a burst, then the rest: 400 ms in all
        rec.caller(pcm([1] * FRAME_8K), now_ms=1_400.0)
    left, right = channels(rec.finish())
    assert len(left) == 20 * FRAME_8K
    start = 300 * 8  # played from 300 ms of real time, not from the 100 ms the count had reached
    assert right[start : start + FRAME_8K] == [-5] * FRAME_8K
    assert right[:start] == [0] * start
    assert right[start + FRAME_8K :] == [0] * (len(right) - start - FRAME_8K)


def test_a_clear_while_the_caller_runs_late_keeps_what_real_time_says_was_played() -> None:
    rec = CallRecorder(L16)
    rec.caller(pcm([1] * FRAME_8K), now_ms=20.0)  # sample 0 at call time 0
    rec.agent(pcm([-5] * (5 * FRAME_8K)), now_ms=20.0)  # 100 ms from 20 ms
    rec.clear(now_ms=80.0)  # 60 ms in: 60 ms played, 40 ms flushed (no caller frame since)
    for _ in range(9):
        rec.caller(pcm([1] * FRAME_8K), now_ms=200.0)
    _, right = channels(rec.finish())
    assert right[: 20 * 8] == [0] * (20 * 8)
    assert right[20 * 8 : 80 * 8] == [-5] * (60 * 8)
    assert right[80 * 8 :] == [0] * (len(right) - 80 * 8)
    assert rec.agent_cleared_ms == pytest.approx(40.0)


def test_a_caller_on_time_keeps_the_count_as_the_clock() -> None:
    on_time, counted = CallRecorder(L16), CallRecorder(L16)
    for n in range(1, 11):
        on_time.caller(pcm([n] * FRAME_8K), now_ms=20.0 * n)
        counted.caller(pcm([n] * FRAME_8K))
        if n == 4:
            on_time.agent(pcm([-3] * 500), now_ms=20.0 * n)
            counted.agent(pcm([-3] * 500))
        if n == 6:
            on_time.clear(now_ms=20.0 * n)
            counted.clear()
    assert on_time.finish() == counted.finish()

"""The carrier's playback buffer: back-to-back queuing, exact mark times, clear."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.sim.dialect import GatewayClear, GatewayCommand, GatewayMark, GatewayMedia
from gateway.sim.playback import Cleared, MarkDue, PlaybackModel


def audio(ms: int, value: int = 1000) -> GatewayMedia:
    return GatewayMedia(np.full(ms * 8, value, dtype=np.int16))


def test_audio_plays_back_to_back_from_its_arrival() -> None:
    model = PlaybackModel()
    model.feed(10, audio(20, 1))
    model.feed(10, audio(20, 2))  # queued behind the first
    model.feed(100, audio(20, 3))  # the queue ran dry at 50: starts on arrival
    heard = model.heard(8 * 200)
    assert np.all(heard[:80] == 0)
    assert np.all(heard[80:240] == 1)
    assert np.all(heard[240:400] == 2)
    assert np.all(heard[400:800] == 0)
    assert np.all(heard[800:960] == 3)
    assert np.all(heard[960:] == 0)
    assert model.played_samples(8 * 200) == 480


def test_a_mark_is_echoed_exactly_when_the_audio_before_it_has_played() -> None:
    model = PlaybackModel()
    assert model.feed(10, audio(100)) == []
    assert model.feed(12, GatewayMark("a")) == []
    assert model.next_due_ms() == 110
    assert model.due(109.99) == []
    assert model.due(110) == [MarkDue("a", sent_ms=12, due_ms=110, played=True)]
    assert model.next_due_ms() is None
    assert model.due(500) == []


def test_a_mark_with_nothing_queued_is_echoed_at_once() -> None:
    model = PlaybackModel()
    assert model.feed(5, GatewayMark("idle")) == [MarkDue("idle", 5, 5, played=True)]
    model.feed(10, audio(20))
    assert model.feed(40, GatewayMark("after")) == [MarkDue("after", 40, 40, played=True)]


def test_marks_come_back_in_order_each_after_its_own_audio() -> None:
    model = PlaybackModel()
    model.feed(0, audio(40))
    model.feed(0, GatewayMark("one"))
    model.feed(0, audio(60))
    model.feed(0, GatewayMark("two"))
    model.feed(0, GatewayMark("three"))  # no audio between: due with "two"
    assert model.due(39) == []
    assert [m.name for m in model.due(40)] == ["one"]
    assert model.queued_ms(40) == 60
    assert [(m.name, m.due_ms) for m in model.due(1000)] == [("two", 100), ("three", 100)]


def test_feed_returns_overdue_marks_before_an_immediate_one() -> None:
    model = PlaybackModel()
    model.feed(0, audio(20))
    model.feed(0, GatewayMark("old"))
    echoes = model.feed(50, GatewayMark("new"))  # "old" was due at 20 and not yet asked for
    assert [(m.name, m.due_ms) for m in echoes] == [("old", 20), ("new", 50)]


def test_clear_drops_unplayed_audio_and_echoes_pending_marks_at_once_in_order() -> None:
    model = PlaybackModel()
    model.feed(10, audio(100, 7))
    model.feed(10, GatewayMark("a"))
    model.feed(10, audio(100, 8))
    model.feed(10, GatewayMark("b"))
    echoes = model.feed(60, GatewayClear())
    assert echoes == [MarkDue("a", 10, 60, played=False), MarkDue("b", 10, 60, played=False)]
    assert model.clears == [Cleared(at_ms=60, dropped_ms=150, flushed_marks=2)]
    assert model.queued_ms(60) == 0
    assert model.next_due_ms() is None
    heard = model.heard(8 * 300)
    assert np.all(heard[80:480] == 7)  # 10..60 ms played
    assert np.all(heard[480:] == 0)  # the rest never did
    # Audio after the clear starts at its arrival.
    model.feed(70, audio(10, 9))
    assert np.all(model.heard(8 * 300)[560:640] == 9)


def test_clear_echoes_already_played_marks_as_played_first() -> None:
    model = PlaybackModel()
    model.feed(0, audio(20))
    model.feed(0, GatewayMark("done"))
    model.feed(0, audio(100))
    model.feed(0, GatewayMark("pending"))
    echoes = model.feed(50, GatewayClear())
    assert [(m.name, m.played) for m in echoes] == [("done", True), ("pending", False)]
    assert model.clears[-1].dropped_ms == 70


def test_clear_with_nothing_queued_drops_nothing() -> None:
    model = PlaybackModel()
    assert model.feed(10, GatewayClear()) == []
    assert model.clears == [Cleared(10, 0, 0)]


def test_playing_intervals_merge_back_to_back_audio_and_stop_at_a_clear() -> None:
    model = PlaybackModel()
    model.feed(0, audio(20))
    model.feed(10, audio(20))  # queued: plays 20..40
    model.feed(100, audio(50))
    model.feed(120, GatewayClear())
    assert model.playing_intervals(8 * 1000) == [(0, 320), (800, 960)]
    assert model.playing_intervals(8 * 30) == [(0, 240)]


def test_heard_stops_where_the_call_ended() -> None:
    model = PlaybackModel()
    model.feed(0, audio(100, 5))
    heard = model.heard(400)  # 50 ms
    assert len(heard) == 400
    assert np.all(heard == 5)
    assert model.played_samples(400) == 400


def test_times_between_samples_round_down_to_the_sample_already_reached() -> None:
    model = PlaybackModel()
    model.feed(0.1249, audio(1))  # sample 0 (the next starts at 0.125 ms)
    model.feed(0.1249, GatewayMark("m"))
    assert model.next_due_ms() == 1.0
    model.feed(2.13, audio(1))  # arrives at sample 17
    assert np.flatnonzero(model.heard(100)).tolist() == [*range(8), *range(17, 25)]


commands = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=40),  # ms since the previous command
        st.one_of(
            st.integers(min_value=0, max_value=60).map(lambda ms: ("media", ms)),
            st.just(("mark", 0)),
            st.just(("clear", 0)),
        ),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(commands)
def test_every_mark_comes_back_once_in_order_and_audio_is_played_or_dropped(
    script: list[tuple[int, tuple[str, int]]],
) -> None:
    model = PlaybackModel()
    now = 0
    sent: list[str] = []
    echoes: list[MarkDue] = []
    fed_samples = 0
    for step, (kind, ms) in script:
        now += step
        echoes += model.due(now)
        command: GatewayCommand
        if kind == "media":
            command = audio(ms)
            fed_samples += ms * 8
        elif kind == "mark":
            command = GatewayMark(f"m{len(sent)}")
            sent.append(command.name)
        else:
            command = GatewayClear()
        echoes += model.feed(now, command)
    end = now + 10_000
    echoes += model.due(end)
    assert [m.name for m in echoes] == sent
    assert all(m.sent_ms <= m.due_ms for m in echoes)
    assert [m.due_ms for m in echoes] == sorted(m.due_ms for m in echoes)
    dropped = sum(c.dropped_ms for c in model.clears) * 8
    total: npt.NDArray[np.int16] = model.heard(end * 8)
    assert model.played_samples(end * 8) + dropped == fed_samples
    assert np.count_nonzero(total) == model.played_samples(end * 8)

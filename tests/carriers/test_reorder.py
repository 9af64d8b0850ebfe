"""Reorder: sequence-numbered items back in order within a bounded window."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.carriers.reorder import Gap, Released, Reorder, Stale


def released(results: list[Released[str] | Gap | Stale]) -> list[str]:
    return [r.item for r in results if isinstance(r, Released)]


def test_in_order_items_pass_straight_through() -> None:
    reorder: Reorder[str] = Reorder(3)
    assert reorder.push(1, "a") == [Released("a")]
    assert reorder.push(2, "b") == [Released("b")]
    assert reorder.expected == 3
    assert reorder.held == 0


def test_a_late_item_takes_its_place() -> None:
    reorder: Reorder[str] = Reorder(3)
    assert reorder.push(1, "a") == [Released("a")]
    assert reorder.push(3, "c") == []  # held: 2 may still come
    assert reorder.push(4, "d") == []
    assert reorder.push(2, "b") == [Released("b"), Released("c"), Released("d")]
    assert reorder.reordered == 1
    assert reorder.held == 0


def test_a_lost_item_is_given_up_once_the_window_is_exceeded() -> None:
    reorder: Reorder[str] = Reorder(3)
    reorder.push(1, "a")
    assert reorder.push(3, "c") == []
    assert reorder.push(4, "d") == []
    assert reorder.push(5, "e") == []  # three frames held after the hole: the window
    assert reorder.push(6, "f") == [
        Gap(2, 3),
        Released("c"),
        Released("d"),
        Released("e"),
        Released("f"),
    ]
    # The lost item arriving after all is stale (never seen), as is any repeat (a duplicate).
    assert reorder.push(2, "b") == [Stale(2, 7, duplicate=False)]
    assert reorder.push(6, "f") == [Stale(6, 7, duplicate=True)]


def test_a_repeat_of_a_held_item_is_stale() -> None:
    reorder: Reorder[str] = Reorder(3)
    reorder.push(1, "a")
    reorder.push(3, "c")
    assert reorder.push(3, "c again") == [Stale(3, 2)]


def test_a_big_jump_is_a_hole_like_any_other() -> None:
    reorder: Reorder[str] = Reorder(3)
    reorder.push(1, "a")
    assert reorder.push(50, "x") == []
    assert reorder.push(51, "y") == []
    assert reorder.push(52, "z") == []
    assert reorder.push(53, "w") == [
        Gap(2, 50),
        Released("x"),
        Released("y"),
        Released("z"),
        Released("w"),
    ]
    assert reorder.expected == 54


def test_only_paced_items_count_towards_the_window() -> None:
    """A burst of other messages (mark echoes) behind a late frame does not give it up."""
    reorder: Reorder[str] = Reorder(3)
    reorder.push(1, "a")
    assert reorder.push(3, "frame 3") == []
    for number in range(4, 10):
        assert reorder.push(number, f"mark {number}", paced=False) == []
    assert reorder.held == 7
    out = reorder.push(2, "frame 2")
    assert [r.item for r in out if isinstance(r, Released)] == [
        "frame 2",
        "frame 3",
        *(f"mark {n}" for n in range(4, 10)),
    ]


def test_memory_stays_bounded_whatever_arrives() -> None:
    reorder: Reorder[int] = Reorder(3, max_held=5, memory=8)
    reorder.push(1, 1)
    for number in range(3, 500):
        reorder.push(number, number, paced=False)
        assert reorder.held <= 5
    assert len(reorder._seen) <= 8


def test_a_jump_is_a_gap_once_the_next_item_follows_it() -> None:
    reorder: Reorder[str] = Reorder(0)
    reorder.push(1, "a")
    assert reorder.push(1001, "x") == [Released("x")]  # processed now, not believed yet
    assert reorder.push(1002, "y") == [Gap(2, 1001), Released("y")]
    assert reorder.expected == 1003


def test_a_wrong_number_in_an_items_place_is_forgotten() -> None:
    """+1,000 on one item (issue 22): nothing reported missed, nothing stale, nothing held."""
    for window in (0, 3):
        reorder: Reorder[str] = Reorder(window)
        reorder.push(1, "a")
        assert reorder.push(1002, "b") == [Released("b")]  # really 2
        assert reorder.push(3, "c") == [Released("c")]
        assert reorder.push(4, "d") == [Released("d")]
        assert (reorder.expected, reorder.held, reorder.wrong_numbers) == (5, 0, 1)


def test_a_wrong_number_on_an_extra_item_is_forgotten() -> None:
    reorder: Reorder[str] = Reorder(0)
    reorder.push(1, "a")
    assert reorder.push(1002, "extra") == [Released("extra")]
    assert reorder.push(2, "b") == [Released("b")]
    assert reorder.push(3, "c") == [Released("c")]
    # Its number, forgotten, is free for the item that really has it.
    for number in range(4, 1002):
        reorder.push(number, "...")
    assert reorder.push(1002, "real") == [Released("real")]


def test_numbers_that_went_back_resynchronise_on_the_second() -> None:
    reorder: Reorder[str] = Reorder(0)
    for number in (1, 2, 3):
        reorder.push(number, str(number))
    assert reorder.push(2, "repeat") == [Stale(2, 4, duplicate=True)]
    reorder.push(500, "x")
    reorder.push(501, "y")  # a real jump: confirmed
    assert reorder.push(4, "d") == [Stale(4, 502, duplicate=False)]  # alone: dropped
    assert reorder.push(5, "e") == [Released("e")]  # the second in a row: followed
    assert reorder.push(6, "f") == [Released("f")]
    assert reorder.resynced == 1
    # Numbers already released are skipped, not reported missed.
    for number in range(7, 500):
        assert reorder.push(number, "...") == [Released("...")]
    assert reorder.push(502, "z") == [Released("z")]


def test_flush_forgets_a_jump_nothing_confirmed() -> None:
    reorder: Reorder[str] = Reorder(0)
    reorder.push(1, "a")
    assert reorder.push(70_000, "stop") == [Released("stop")]
    assert reorder.flush() == []


def test_flush_releases_everything_held_with_its_holes() -> None:
    reorder: Reorder[str] = Reorder(5)
    reorder.push(1, "a")
    reorder.push(3, "c")
    reorder.push(6, "f")
    assert reorder.flush() == [Gap(2, 3), Released("c"), Gap(4, 6), Released("f")]
    assert reorder.held == 0
    assert reorder.flush() == []


def test_window_zero_never_holds() -> None:
    reorder: Reorder[str] = Reorder(0)
    reorder.push(1, "a")
    assert reorder.push(3, "c") == [Released("c")]
    assert reorder.push(4, "d") == [Gap(2, 3), Released("d")]
    assert reorder.held == 0


@given(st.permutations(list(range(1, 41))), st.integers(min_value=1, max_value=6))
def test_any_delivery_loses_only_what_came_too_late(order: list[int], window: int) -> None:
    """Whatever the arrival order (within `max_held`), nothing is released twice, and
    everything that arrived within the window of its place is released. (What comes later than
    that is dropped when alone, or followed when two such items follow each other: numbering
    that went back is followed, so those two are released out of order.)"""
    reorder: Reorder[int] = Reorder(window)
    out: list[int] = []
    for number in order:
        out += released(reorder.push(number, number))
    out += released(reorder.flush())
    assert len(out) == len(set(out))
    for position, number in enumerate(order):
        overtaken = sum(1 for later in order[:position] if later > number)
        if overtaken == 0:
            assert number in out


@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=60))
def test_neighbour_swaps_within_the_window_lose_nothing(shifts: list[int]) -> None:
    """Each item delayed by at most `window` places: all come out, in order, none missed."""
    numbers = list(range(1, len(shifts) + 1))
    arrival = sorted(numbers, key=lambda n: n + shifts[n - 1] + 0.5 * (shifts[n - 1] > 0))
    reorder: Reorder[int] = Reorder(3)
    results = [r for n in arrival for r in reorder.push(n, n)] + reorder.flush()
    assert released(results) == numbers
    assert not [r for r in results if isinstance(r, Gap | Stale)]


@given(st.permutations(list(range(1, 41))), st.integers(min_value=0, max_value=6))
def test_nothing_is_ever_released_twice(order: list[int], window: int) -> None:
    reorder: Reorder[int] = Reorder(window)
    out = [n for number in order for n in released(reorder.push(number, number))]
    out += released(reorder.flush())
    assert len(out) == len(set(out))


@given(
    st.integers(min_value=2, max_value=40),
    st.integers(min_value=65, max_value=10**12),
    st.integers(min_value=0, max_value=6),
)
def test_one_wrong_number_loses_and_reports_nothing(where: int, jump: int, window: int) -> None:
    """An ordered stream with one item's number off by far more than the holding span: every
    item is released once, in its place, with no gap and nothing stale."""
    reorder: Reorder[int] = Reorder(window)
    results = [r for n in range(1, 41) for r in reorder.push(n + jump * (n == where), n)]
    results += reorder.flush()
    assert released(results) == list(range(1, 41))
    assert not [r for r in results if isinstance(r, Gap | Stale)]

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
    # The lost item arriving after all is stale, as is any repeat.
    assert reorder.push(2, "b") == [Stale(2, 7)]
    assert reorder.push(6, "f") == [Stale(6, 7)]


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
    reorder: Reorder[str] = Reorder(3, max_held=5)
    reorder.push(1, "a")
    for number in range(3, 8):
        assert reorder.push(number, "mark", paced=False) == []
    out = reorder.push(8, "mark", paced=False)
    assert out[0] == Gap(2, 3)
    assert reorder.held == 0


def test_an_implausible_number_is_released_untracked() -> None:
    reorder: Reorder[str] = Reorder(3, max_jump=100)
    reorder.push(1, "a")
    assert reorder.push(10_000, "junk") == [Released("junk")]
    assert reorder.expected == 2
    assert reorder.push(2, "b") == [Released("b")]


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
    assert reorder.push(3, "c") == [Gap(2, 3), Released("c")]


@given(st.permutations(list(range(1, 41))), st.integers(min_value=0, max_value=6))
def test_any_delivery_comes_out_in_order_without_duplicates(order: list[int], window: int) -> None:
    """Whatever the arrival order, what is released is increasing, and everything that arrived
    within the window of its place is released exactly once."""
    reorder: Reorder[int] = Reorder(window)
    out: list[int] = []
    for number in order:
        out += released(reorder.push(number, number))
    out += released(reorder.flush())
    assert out == sorted(out)
    assert len(out) == len(set(out))
    # An item is only lost if more than `window` later items arrived before it.
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

"""The admission decision: limits in order, the first refusal names the reason."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gateway.core.admission import (
    AT_CAPACITY,
    DRAINING,
    Admit,
    Limit,
    Load,
    MaxCalls,
    NotDraining,
    Refuse,
    decide,
)


def test_no_limit_admits() -> None:
    assert decide(Load(running=1000, awaiting_stream=1000), ()) == Admit()


@pytest.mark.parametrize(
    ("running", "awaiting", "expected"),
    [
        (0, 0, Admit()),
        (2, 0, Admit()),
        (0, 2, Admit()),
        (2, 1, Refuse(AT_CAPACITY)),  # calls awaiting their stream count too
        (3, 0, Refuse(AT_CAPACITY)),
        (1, 2, Refuse(AT_CAPACITY)),
        (4, 4, Refuse(AT_CAPACITY)),
    ],
)
def test_max_calls_counts_running_and_awaiting_calls(
    running: int, awaiting: int, expected: Admit | Refuse
) -> None:
    assert decide(Load(running, awaiting), (MaxCalls(3),)) == expected


def test_a_limit_of_zero_refuses_every_call() -> None:
    assert decide(Load(0, 0), (MaxCalls(0),)) == Refuse(AT_CAPACITY)


def test_draining_refuses_even_with_room_and_names_itself_first() -> None:
    limits: tuple[Limit, ...] = (NotDraining(True), MaxCalls(3))
    assert decide(Load(0, 0), limits) == Refuse(DRAINING)
    assert decide(Load(3, 0), limits) == Refuse(DRAINING)  # both refuse: the first one's reason
    assert decide(Load(2, 0), (NotDraining(False), MaxCalls(3))) == Admit()


@dataclass(frozen=True)
class ClusterSlots:
    """Another limit, as cluster mode would add one: free slots across the replicas."""

    free: int

    def refuses(self, load: Load) -> str | None:
        return "cluster full" if self.free <= 0 else None


def test_another_limit_joins_the_sequence_without_touching_the_others() -> None:
    limits: tuple[Limit, ...] = (NotDraining(False), MaxCalls(3), ClusterSlots(0))
    assert decide(Load(0, 0), limits) == Refuse("cluster full")
    assert decide(Load(3, 0), limits) == Refuse(AT_CAPACITY)
    assert decide(Load(0, 0), (*limits[:2], ClusterSlots(1))) == Admit()


def test_load_sums_running_and_awaiting_calls() -> None:
    assert Load(running=2, awaiting_stream=3).calls == 5

"""Whether a webhook's call is taken: one pure decision over a sequence of limits.

A carrier's voice webhook is answered with the agent (a stream token) or with the fallback. The
decision looks at the gateway's load and at each limit in turn; the first limit that refuses
names the reason. Nothing here reads a clock or counts anything: the shell measures the load,
builds the limits from its settings and state, and reports the outcome to its metrics.

Adding a limit (a cluster-wide slot check, say) is one more `Limit` in the sequence the shell
passes: the routes, which only see `Admit` or `Refuse`, do not change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Protocol

__all__ = [
    "AT_CAPACITY",
    "CLUSTER_AT_CAPACITY",
    "CLUSTER_UNAVAILABLE",
    "DRAINING",
    "NO_AGENT",
    "REFUSAL_REASONS",
    "Admission",
    "Admit",
    "ClusterSlot",
    "Limit",
    "Load",
    "MaxCalls",
    "NotDraining",
    "Refuse",
    "decide",
]

AT_CAPACITY: Final = "at capacity"
DRAINING: Final = "draining"
CLUSTER_AT_CAPACITY: Final = "cluster at capacity"
"""Cluster mode: GATEWAY_CLUSTER_MAX_CALLS calls hold a slot across the replicas."""
CLUSTER_UNAVAILABLE: Final = "cluster unavailable"
"""Cluster mode: Redis could not be asked for a slot (down or too slow)."""
NO_AGENT: Final = "no agent"
"""No agent profile answers the dialed number (decided by the profile lookup, not by a limit)."""
REFUSAL_REASONS: Final = (AT_CAPACITY, DRAINING, NO_AGENT, CLUSTER_AT_CAPACITY, CLUSTER_UNAVAILABLE)
"""Every reason a webhook's call may be refused (the metrics' labels)."""


@dataclass(frozen=True, slots=True)
class Load:
    """The calls counted against the gateway's limit at the moment of the decision."""

    running: int
    """Calls whose media stream is open."""
    awaiting_stream: int
    """Calls answered at a webhook whose stream has not started (their token still valid)."""
    ringing: int = 0
    """Dial-outs placed (`POST /calls`) whose answer webhook has not come yet."""

    @property
    def calls(self) -> int:
        return self.running + self.awaiting_stream + self.ringing


@dataclass(frozen=True, slots=True)
class Admit:
    """The call is taken."""


@dataclass(frozen=True, slots=True)
class Refuse:
    """The call is refused: the caller gets the fallback."""

    reason: str


Admission = Admit | Refuse


class Limit(Protocol):
    """One condition a new call must meet."""

    def refuses(self, load: Load) -> str | None:
        """The reason this limit refuses a new call under `load`, else None."""
        ...


@dataclass(frozen=True, slots=True)
class NotDraining:
    """A draining gateway (SIGTERM) takes no new call."""

    draining: bool

    def refuses(self, load: Load) -> str | None:
        return DRAINING if self.draining else None


@dataclass(frozen=True, slots=True)
class MaxCalls:
    """At most `max_calls` calls, running or awaiting their stream (GATEWAY_MAX_CALLS)."""

    max_calls: int

    def refuses(self, load: Load) -> str | None:
        return AT_CAPACITY if load.calls >= self.max_calls else None


@dataclass(frozen=True, slots=True)
class ClusterSlot:
    """Cluster mode: the call got a cluster-wide slot (`True`), the cluster is full (`False`),
    or Redis could not be asked (`None`): the shell reserves first, then decides with this."""

    reserved: bool | None

    def refuses(self, load: Load) -> str | None:
        if self.reserved is None:
            return CLUSTER_UNAVAILABLE
        return None if self.reserved else CLUSTER_AT_CAPACITY


def decide(load: Load, limits: Iterable[Limit]) -> Admission:
    """`Admit` when every limit takes the call, else `Refuse` with the first refusal's reason
    (the limits are checked in order: put the one whose reason matters most first)."""
    for limit in limits:
        reason = limit.refuses(load)
        if reason is not None:
            return Refuse(reason)
    return Admit()

"""Cluster-wide admission: one slot per call across the replicas, held by a lease.

Slots are the members of one sorted set (`gw:slots`, member = call id, score = when its lease
ends, Redis' own clock) with their holder in a hash (`gw:slot_owner`). Every change is one Lua
script, so it is atomic and first drops the leases that ended:

* `reserve(call, limit)`: a webhook's call takes a slot when fewer than `limit` are held (the
  pre-warmed Live session is covered by it from the webhook on);
* `take(call)`: the replica that got the call's stream (or answers its reconnect) becomes its
  holder, whatever the count (the call already had its slot);
* `renew()`: every `lease_ms / 3` the replica extends the leases of the slots it holds, in one
  script; a slot another replica took since is reported lost (its pre-warmed session is closed
  at once, see docs/operations.md) and forgotten; a slot that vanished (Redis restarted) is put
  back;
* `release(call)`: the holder gives the slot back (a call ended, a token expired unused);
* `reserve_ringing(id, limit, lease_ms)`: a dial-out (`POST /calls`) takes a slot held by no
  replica (`RINGING`) with a lease as long as it may ring, unrenewed; its answer webhook's
  `reserve` (on any replica) then takes it over, and a dial-out that ends unanswered gives it
  back from any replica (`release_ringing`); a lost callback costs the lease, never a leak.

A replica that dies stops renewing: its slots' leases end within `lease_ms` and the next script
drops them, so a `kill -9` leaks nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Final

from gateway.cluster.link import ClusterUnavailableError, RedisLink
from gateway.log import get_logger

__all__ = ["ClusterSlots"]

SLOTS: Final = "gw:slots"
OWNERS: Final = "gw:slot_owner"
RINGING: Final = "(ringing)"
"""The holder of a dial-out's slot until its answer webhook takes it (no replica's name)."""
_log = get_logger(component="cluster")

_PRUNE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ended = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 1, #ended, 500 do
  local batch = {unpack(ended, i, math.min(i + 499, #ended))}
  redis.call('ZREM', KEYS[1], unpack(batch))
  redis.call('HDEL', KEYS[2], unpack(batch))
end
"""
RESERVE: Final = (
    _PRUNE
    + """
local limit = tonumber(ARGV[4])
if limit >= 0 and not redis.call('ZSCORE', KEYS[1], ARGV[1])
    and redis.call('ZCARD', KEYS[1]) >= limit then
  return -1
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
"""
)
"""ARGV: call, replica, lease_ms, limit (-1: none). -1 when full, else the slots held."""
RENEW: Final = (
    _PRUNE
    + """
local lost = {}
for i = 3, #ARGV do
  local holder = redis.call('HGET', KEYS[2], ARGV[i])
  if holder and holder ~= ARGV[1] then
    lost[#lost + 1] = ARGV[i]
  else
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[i])
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[1])
  end
end
return lost
"""
)
"""ARGV: replica, lease_ms, calls... The calls another replica holds now."""
RELEASE: Final = """
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 1
end
return 0
"""
RING: Final = (
    _PRUNE
    + """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return redis.call('ZCARD', KEYS[1])
end
local limit = tonumber(ARGV[4])
if limit >= 0 and redis.call('ZCARD', KEYS[1]) >= limit then
  return -1
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
"""
)
"""ARGV as RESERVE's; a slot held already (its answer webhook came first) is left as it is."""
COUNT: Final = _PRUNE + "\nreturn redis.call('ZCARD', KEYS[1])\n"


class ClusterSlots:
    def __init__(
        self,
        link: RedisLink,
        replica: str,
        *,
        lease_ms: int = 15_000,
        on_lost: Callable[[str], None] | None = None,
    ) -> None:
        self._link = self.link = link
        self.replica = replica
        self.lease_ms = lease_ms
        self.held: set[str] = set()
        """The calls whose slot this replica holds (renewed until released)."""
        self._on_lost = on_lost
        self.cluster_calls: int | None = None
        """Slots held across the cluster at the last script (a gauge; None: not known yet)."""

    async def _script(self, source: str, args: list[Any]) -> Any:
        async def run(client: Any) -> Any:
            return await client.eval(source, 2, SLOTS, OWNERS, *args)

        return await self._link.call(run)

    async def reserve(self, call_id: str, limit: int | None) -> bool | None:
        """A slot for a webhook's call: True, False (the cluster is full), None (no Redis)."""
        try:
            held = await self._script(
                RESERVE, [call_id, self.replica, self.lease_ms, -1 if limit is None else limit]
            )
        except ClusterUnavailableError:
            return None
        if int(held) < 0:
            return False
        self.cluster_calls = int(held)
        self.held.add(call_id)
        return True

    async def take(self, call_id: str) -> bool:
        """Hold `call_id`'s slot here (its stream came here); False: Redis unavailable (the
        call is held locally and renewal puts it back when Redis returns)."""
        self.held.add(call_id)
        try:
            held = await self._script(RESERVE, [call_id, self.replica, self.lease_ms, -1])
        except ClusterUnavailableError:
            return False
        self.cluster_calls = int(held)
        return True

    async def release(self, call_id: str) -> None:
        """Give `call_id`'s slot back (if this replica still holds it)."""
        self.held.discard(call_id)
        with contextlib.suppress(ClusterUnavailableError):  # else its lease ends on its own
            await self._script(RELEASE, [call_id, self.replica])

    async def reserve_ringing(self, dial_id: str, limit: int | None, lease_ms: int) -> bool | None:
        """A slot for a dial-out while it rings: True, False (the cluster is full), None (no
        Redis). Held by `RINGING`, not by this replica: nobody renews it."""
        args = [dial_id, RINGING, lease_ms, -1 if limit is None else limit]
        try:
            held = await self._script(RING, args)
        except ClusterUnavailableError:
            return None
        if int(held) < 0:
            return False
        self.cluster_calls = int(held)
        return True

    async def release_ringing(self, *ids: str) -> None:
        """Give back the ringing slots of `ids` (those no call's replica took over)."""
        for slot_id in ids:
            with contextlib.suppress(ClusterUnavailableError):  # else its lease ends on its own
                await self._script(RELEASE, [slot_id, RINGING])

    async def renew(self) -> None:
        """Extend the leases of the slots held here; forget those another replica took."""
        held = sorted(self.held)
        try:
            if held:
                lost = await self._script(RENEW, [self.replica, self.lease_ms, *held])
            else:
                lost = []
            self.cluster_calls = int(await self._script(COUNT, []))
        except ClusterUnavailableError:
            return
        for call_id in lost:
            self.held.discard(call_id)
            _log.info("cluster.slot_taken_elsewhere", call_sid=call_id)
            if self._on_lost is not None:
                self._on_lost(call_id)

    async def run(self) -> None:
        """Renew forever (a task of the replica's cluster)."""
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            await self.renew()

    async def count(self) -> int | None:
        try:
            return int(await self._script(COUNT, []))
        except ClusterUnavailableError:
            return None

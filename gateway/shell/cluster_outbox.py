"""Cluster mode's post-call webhook outbox: pending deliveries kept in Redis for every replica.

`RedisOutbox` is an `OutboxStore` (gateway.shell.webhook_outbox) whose deliveries wait in Redis,
so that a delivery one replica could not finish (it is stopping, or it died) is finished by
another. Three keys, shared by the cluster:

* `gw:webhooks:doc`, a hash: delivery id -> the delivery as JSON (url, body, attempts, ...);
* `gw:webhooks:due`, a sorted set: the waiting deliveries by due time (unix seconds);
* `gw:webhooks:claimed`, a sorted set: the deliveries being sent, by the end of their lease.

`claim` is one Lua script: it first puts back the claims whose lease ended (their replica died
mid-attempt), then moves the soonest due delivery from `due` to `claimed` with a lease of
`lease_s`, so that two replicas never send the same attempt at once. `retry` puts a claimed one
back with its next due time; `done` forgets it (delivered, or failed for good). `add` refuses a
new delivery once `max_pending` are kept across the cluster (waiting or claimed); adding an id
that is kept already replaces it (a call's later leg supersedes the document of an earlier one).
A delivery made by a call's leg (`Delivery.leg`, cluster mode) also marks the newest leg seen
(`gw:webhooks:leg:<id>`, as does `discard` when a new leg starts): a document of an earlier leg
that comes later is refused, so that an old leg's late document never replaces the call's.

Every Redis call goes through the `RedisLink` (bounded by its timeout). When Redis is
unavailable a new delivery goes to the in-memory `fallback` (counted in `fallbacks`, logged once
per outage): a call never waits, and the document still gets tried from this replica. At
shutdown `hand_back` leaves a delivery cut short in Redis for the other replicas (due at once)
and `drain` gives only the fallback's deliveries their last try: what waits in Redis stays there.
"""

from __future__ import annotations

import json
from typing import Any, Final

from gateway.cluster.link import ClusterUnavailableError, RedisLink
from gateway.log import get_logger
from gateway.shell.webhook_outbox import Delivery, MemoryOutbox

__all__ = ["RedisOutbox"]

DOCS: Final = "gw:webhooks:doc"
DUE: Final = "gw:webhooks:due"
CLAIMED: Final = "gw:webhooks:claimed"
LEG: Final = "gw:webhooks:leg:"
_KEYS: Final = (DOCS, DUE, CLAIMED)
OUTBOX_LEASE_S: Final = 30.0
"""A claim's lease at least (longer than one attempt): then another replica may take it."""
_log = get_logger(component="webhooks")

_ADD: Final = """
local leg = tonumber(ARGV[5])
if leg > 0 then
  local seen = tonumber(redis.call('GET', KEYS[4]) or '0')
  if leg < seen then
    return 2
  end
end
local kept = redis.call('HEXISTS', KEYS[1], ARGV[1])
if kept == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
if leg > 0 then
  redis.call('SET', KEYS[4], leg, 'EX', ARGV[6])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
"""
"""KEYS: docs, due, claimed, the id's leg mark. ARGV: id, document, due, max_pending, leg,
the mark's time to live. 1: kept (new or replacing), 0: full, 2: a later leg of its call began
(superseded: not kept)."""

_DISCARD: Final = """
local leg = tonumber(ARGV[2])
if leg > 0 and leg > tonumber(redis.call('GET', KEYS[4]) or '0') then
  redis.call('SET', KEYS[4], leg, 'EX', ARGV[3])
end
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
"""
"""KEYS as `_ADD`'s. ARGV: id, leg, the mark's time to live. 1: a waiting delivery dropped."""

_CLAIM: Final = """
local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[3], id)
  if redis.call('HEXISTS', KEYS[1], id) == 1 then
    redis.call('ZADD', KEYS[2], now, id)
  end
end
while true do
  local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1)
  if #due == 0 then
    return false
  end
  local id = due[1]
  redis.call('ZREM', KEYS[2], id)
  local doc = redis.call('HGET', KEYS[1], id)
  if doc then
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), id)
    return doc
  end
end
"""
"""ARGV: now, lease. The claimed delivery's JSON, or nil when none is due."""

_RETRY: Final = """
if redis.call('ZREM', KEYS[3], ARGV[1]) == 0 and redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
"""
"""ARGV: id, document, due. Back to waiting (0: another replica re-queued it meanwhile)."""


def _encode(delivery: Delivery) -> str:
    return json.dumps(
        {
            "id": delivery.delivery_id,
            "url": delivery.url,
            "body": delivery.body.decode(),
            "created_s": delivery.created_s,
            "attempts": delivery.attempts,
            "due_s": delivery.due_s,
            "leg": delivery.leg,
            "last_error": delivery.last_error,
        },
        separators=(",", ":"),
    )


def _decode(text: str) -> Delivery | None:
    try:
        fields = json.loads(text)
        return Delivery(
            delivery_id=str(fields["id"]),
            url=str(fields["url"]),
            body=str(fields["body"]).encode(),
            created_s=float(fields["created_s"]),
            attempts=int(fields["attempts"]),
            due_s=float(fields["due_s"]),
            leg=int(fields.get("leg", 0)),
            last_error=str(fields.get("last_error", "")),
        )
    except (ValueError, TypeError, KeyError):
        return None


class RedisOutbox:
    """Pending deliveries in Redis, shared by the replicas (see the module doc)."""

    def __init__(
        self,
        link: RedisLink,
        max_pending: int,
        *,
        lease_s: float = OUTBOX_LEASE_S,
        fallback: MemoryOutbox | None = None,
        leg_ttl_s: int = 86_400,
    ) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        self.link = link
        self.max_pending = max_pending
        self.lease_s = lease_s
        """A claim older than this is another replica's to take (longer than one attempt)."""
        self.leg_ttl_s = leg_ttl_s
        """How long a call's newest leg number is kept (longer than any call)."""
        self.fallback = fallback or MemoryOutbox(max_pending)
        self.fallbacks = 0
        """Deliveries kept in memory because Redis was unavailable (a metric)."""
        self._down = False
        self._local: set[str] = set()
        """Ids claimed from the fallback (they are not in Redis)."""

    async def _run(self, script: str, *args: str | float | int, leg_of: str = "") -> Any:
        keys = (*_KEYS, LEG + leg_of) if leg_of else _KEYS
        return await self.link.call(lambda client: client.eval(script, len(keys), *keys, *args))

    def _unavailable(self, what: str) -> None:
        if not self._down:
            self._down = True
            _log.warning("webhook.redis_unavailable", during=what, fallback="memory")

    def _available(self) -> None:
        if self._down:
            self._down = False
            _log.info("webhook.redis_available")

    async def add(self, delivery: Delivery) -> bool:
        try:
            kept = await self._run(
                _ADD,
                delivery.delivery_id,
                _encode(delivery),
                delivery.due_s,
                self.max_pending,
                delivery.leg,
                self.leg_ttl_s,
                leg_of=delivery.delivery_id,
            )
        except ClusterUnavailableError:
            self._unavailable("add")
            self.fallbacks += 1
            return await self.fallback.add(delivery)
        self._available()
        if kept == 2:
            _log.info("webhook.superseded", delivery_id=delivery.delivery_id, leg=delivery.leg)
        return bool(kept)

    async def claim(self, now_s: float) -> Delivery | None:
        local = await self.fallback.claim(now_s)
        if local is not None:
            self._local.add(local.delivery_id)
            return local
        try:
            text = await self._run(_CLAIM, now_s, self.lease_s)
        except ClusterUnavailableError:
            self._unavailable("claim")
            return None
        self._available()
        if text is None:
            return None
        delivery = _decode(str(text))
        if delivery is None:  # not ours to read: dropped rather than claimed forever
            _log.error("webhook.malformed_delivery")
        return delivery

    async def retry(self, delivery: Delivery) -> None:
        if delivery.delivery_id in self._local:
            self._local.discard(delivery.delivery_id)
            await self.fallback.retry(delivery)
            return
        try:
            await self._run(_RETRY, delivery.delivery_id, _encode(delivery), delivery.due_s)
        except ClusterUnavailableError:  # kept here: the claim's lease lets another retry too
            self._unavailable("retry")
            await self.fallback.retry(delivery)

    async def done(self, delivery: Delivery) -> None:
        if delivery.delivery_id in self._local:
            self._local.discard(delivery.delivery_id)
            return
        key = delivery.delivery_id

        async def forget(client: Any) -> Any:
            pipe = client.pipeline(transaction=True)
            pipe.hdel(DOCS, key)
            pipe.zrem(CLAIMED, key)
            pipe.zrem(DUE, key)
            return await pipe.execute()

        try:
            await self.link.call(forget)
        except ClusterUnavailableError:  # its lease ends: another replica may send it again
            self._unavailable("done")

    async def discard(self, delivery_id: str, leg: int = 0) -> bool:
        dropped = await self.fallback.discard(delivery_id)
        try:
            removed = await self._run(
                _DISCARD, delivery_id, leg, self.leg_ttl_s, leg_of=delivery_id
            )
        except ClusterUnavailableError:
            self._unavailable("discard")
            return dropped
        return dropped or bool(removed)

    async def hand_back(self, delivery: Delivery) -> bool:
        """At shutdown: leave a delivery cut short for another replica, due at once."""
        if delivery.delivery_id in self._local:
            return False
        try:
            kept = await self._run(_RETRY, delivery.delivery_id, _encode(delivery), delivery.due_s)
        except ClusterUnavailableError:
            self._unavailable("hand back")
            return False
        return kept is not None

    async def next_due_s(self) -> float | None:
        local = await self.fallback.next_due_s()
        try:
            first = await self.link.call(lambda client: client.zrange(DUE, 0, 0, withscores=True))
        except ClusterUnavailableError:
            return local
        shared = float(first[0][1]) if first else None
        if shared is None or local is None:
            return shared if local is None else local
        return min(shared, local)

    async def depth(self) -> int:
        local = await self.fallback.depth()
        try:
            shared = await self.link.call(lambda client: client.zcard(DUE))
        except ClusterUnavailableError:
            return local
        return local + int(shared)

    async def drain(self) -> list[Delivery]:
        """Only the fallback's deliveries: those in Redis stay for the other replicas."""
        return await self.fallback.drain()

    async def aclose(self) -> None:
        await self.link.aclose()

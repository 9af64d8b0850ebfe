"""Each call's state in Redis while it is up, and which replica owns it.

`gw:call:<id>` is a hash (`gateway.core.carry_on.CallSnapshot.encode`) that expires
`state_ttl_s` after its last write; `gw:owner:<id>` names the replica that owns the call, a
lease of `lease_ms` its owner renews. The owner writes the snapshot when it changes (a new
handle, a transcript line, a tool call) from a task of its own, never from the media path
(`gateway.cluster.node.CallKeeper`); the replica answering the carrier's stream-ended request
reads it (`load`), and the replica that gets the new stream takes the lease (`own`).
"""

from __future__ import annotations

from typing import Any, Final

from gateway.cluster.link import ClusterUnavailableError, RedisLink
from gateway.core.carry_on import CallSnapshot

__all__ = ["CallStateStore"]

STATE: Final = "gw:call:"
OWNER: Final = "gw:owner:"


class CallStateStore:
    def __init__(
        self, link: RedisLink, replica: str, *, lease_ms: int = 15_000, state_ttl_s: int = 7_200
    ) -> None:
        self._link = link
        self.replica = replica
        self.lease_ms = lease_ms
        self.state_ttl_s = state_ttl_s

    async def save(self, call_id: str, snapshot: CallSnapshot, *, own: bool = True) -> bool:
        """Write the snapshot (and renew the owner lease when `own`); False: Redis unavailable."""
        fields = snapshot.encode()

        async def write(client: Any) -> Any:
            pipe = client.pipeline(transaction=True)
            pipe.delete(STATE + call_id)
            pipe.hset(STATE + call_id, mapping=fields)
            pipe.expire(STATE + call_id, self.state_ttl_s)
            if own:
                pipe.set(OWNER + call_id, self.replica, px=self.lease_ms)
            return await pipe.execute()

        try:
            await self._link.call(write)
        except ClusterUnavailableError:
            return False
        return True

    async def mark(self, call_id: str, status: str, end_reason: str = "") -> bool:
        """Set the call's status (`handed_over`, `ended`) and give up its ownership."""

        async def write(client: Any) -> Any:
            pipe = client.pipeline(transaction=True)
            pipe.hset(STATE + call_id, mapping={"status": status, "end_reason": end_reason})
            pipe.expire(STATE + call_id, self.state_ttl_s)
            pipe.delete(OWNER + call_id)
            return await pipe.execute()

        try:
            await self._link.call(write)
        except ClusterUnavailableError:
            return False
        return True

    async def load(self, call_id: str) -> CallSnapshot | None:
        """The call's stored snapshot (None: none); ClusterUnavailableError when Redis is down."""
        fields = await self._link.call(lambda client: client.hgetall(STATE + call_id))
        return CallSnapshot.decode({str(k): str(v) for k, v in fields.items()})

    async def owner(self, call_id: str) -> str | None:
        value = await self._link.call(lambda client: client.get(OWNER + call_id))
        return None if value is None else str(value)

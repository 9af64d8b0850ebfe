"""Dial-outs shared by the replicas: each one's record in Redis, and machine verdicts passed on.

`gw:dial:<id>` holds a dial-out's record (JSON: its status and history as
`gateway.outbound.status.encode` writes it, and the request's variables), `gw:dial_call:<call>`
the dial-out id of a carrier call id; both expire `ttl_s` after their last write. A replica
writes a record with `save(id, change)`: `change` gets the stored record (None: none yet) and
returns the new one, inside a `WATCH`/`MULTI` transaction retried when another replica wrote
meanwhile, so two replicas moving one dial-out at once lose nothing (the shell's `change` merges,
`gateway.outbound.status.merged`). Every call runs under the link's timeout.

A machine-detection verdict that lands on a replica not running the call is published on
`gw:dial_verdicts`; every replica listens (`listen`) and the one running the call hands it to
the call's bridge. Nothing here runs on the per-frame path.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from typing import Any, Final

from redis.exceptions import RedisError, WatchError

from gateway.cluster.link import ClusterUnavailableError, RedisLink
from gateway.log import get_logger

__all__ = ["DialStateStore"]

DIAL: Final = "gw:dial:"
CALL: Final = "gw:dial_call:"
VERDICTS: Final = "gw:dial_verdicts"
WRITE_TRIES: Final = 5
_log = get_logger(component="cluster")

Record = dict[str, Any]


class DialStateStore:
    def __init__(self, link: RedisLink, *, ttl_s: int = 86_400) -> None:
        self._link = link
        self.ttl_s = ttl_s

    async def load(self, dial_id: str) -> Record | None:
        """The dial-out's record (None: none); ClusterUnavailableError when Redis is down."""
        raw = await self._link.call(lambda client: client.get(DIAL + dial_id))
        return _record(raw)

    async def load_call(self, call_id: str) -> Record | None:
        """The record of the dial-out whose carrier call id is `call_id` (None: not one)."""

        async def read(client: Any) -> Any:
            dial_id = await client.get(CALL + call_id)
            return None if dial_id is None else await client.get(DIAL + str(dial_id))

        return _record(await self._link.call(read))

    async def save(
        self,
        dial_id: str,
        change: Callable[[Record | None], Record],
        call_ids: Callable[[Record], Iterable[str]],
    ) -> Record:
        """Write `change(stored)` atomically (retried while another replica writes), with the
        carrier call ids `call_ids(record)` pointing at it; ClusterUnavailableError when Redis
        is down or too busy."""
        key = DIAL + dial_id

        async def write(client: Any) -> Record:
            async with client.pipeline(transaction=True) as pipe:
                for _ in range(WRITE_TRIES):
                    try:
                        await pipe.watch(key)
                        record = change(_record(await pipe.get(key)))
                        pipe.multi()
                        pipe.set(key, json.dumps(record), ex=self.ttl_s)
                        for call_id in call_ids(record):
                            pipe.set(CALL + call_id, dial_id, ex=self.ttl_s)
                        await pipe.execute()
                        return record
                    except WatchError:
                        continue
            raise RedisError("dial-out record busy")

        return await self._link.call(write)

    async def publish_verdict(self, call_id: str, verdict: Record) -> bool:
        """Pass a verdict to the replica running `call_id`; False: Redis unavailable."""
        message = json.dumps({"call_id": call_id, **verdict})
        try:
            await self._link.call(lambda client: client.publish(VERDICTS, message))
        except ClusterUnavailableError:
            return False
        return True

    async def listen(self, deliver: Callable[[str, Record], None], retry_s: float = 1.0) -> None:
        """Hand each published verdict to `deliver(call_id, verdict)` (forever: a task of the
        replica; a lost subscription is opened again after `retry_s`)."""
        timeout_s = self._link.op_timeout_s
        lost = False
        while True:
            pubsub = self._link.client.pubsub(ignore_subscribe_messages=True)
            try:
                async with asyncio.timeout(timeout_s):
                    await pubsub.subscribe(VERDICTS)
                if lost:
                    _log.info("cluster.verdicts_subscribed")
                lost = False
                while True:
                    async with asyncio.timeout(timeout_s + 1.0):
                        message = await pubsub.get_message(timeout=1.0)
                    if message is not None:
                        _deliver(message, deliver)
            except (RedisError, OSError, TimeoutError) as exc:
                if not lost:  # once per outage
                    _log.warning("cluster.verdicts_unsubscribed", error=type(exc).__name__)
                lost = True
            finally:
                try:
                    async with asyncio.timeout(timeout_s):
                        await pubsub.aclose()
                except (RedisError, OSError, TimeoutError):
                    pass
            await asyncio.sleep(retry_s)


def _deliver(message: dict[str, Any], deliver: Callable[[str, Record], None]) -> None:
    try:
        verdict = json.loads(message["data"])
        call_id = str(verdict.pop("call_id"))
    except (ValueError, KeyError, TypeError, AttributeError):
        _log.warning("cluster.verdict_unreadable")
        return
    deliver(call_id, verdict)


def _record(raw: Any) -> Record | None:
    if raw is None:
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None

"""The replica's Redis connection: every call bounded by a timeout, its health watched.

`RedisLink.call(op)` runs one Redis operation under `op_timeout_s` (connect included) and
raises `ClusterUnavailableError` when Redis is down, slow or answers an error; the link
remembers the outcome (`healthy`, `failures`), logs the change once (`cluster.redis_down`,
`cluster.redis_up`) and `watch()` pings it every `ping_interval_s` so that the change is seen
even when no call asks. The client never retries on its own: the caller decides (a webhook
answers the fallback, a renewal tries again at its next tick).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gateway.log import get_logger

__all__ = ["ClusterUnavailableError", "RedisLink"]

T = TypeVar("T")
_log = get_logger(component="cluster")


class ClusterUnavailableError(Exception):
    """Redis could not answer in time (down, slow, or an error): what failed, never the URL."""


class RedisLink:
    def __init__(
        self,
        url: str,
        *,
        op_timeout_s: float = 0.5,
        ping_interval_s: float = 1.0,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.op_timeout_s = op_timeout_s
        self.ping_interval_s = ping_interval_s
        self.client: Redis = Redis.from_url(
            url,
            socket_timeout=op_timeout_s,
            socket_connect_timeout=op_timeout_s,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
            decode_responses=True,
        )
        self.healthy: bool | None = None
        """None until the first call or ping; then whether the last one worked."""
        self.failures = 0
        """Calls and pings that failed (a metric)."""
        self._on_change = on_change

    async def call(self, op: Callable[[Redis], Awaitable[T]]) -> T:
        """`op(client)` within the timeout, else `ClusterUnavailableError`."""
        try:
            async with asyncio.timeout(self.op_timeout_s):
                result = await op(self.client)
        except (RedisError, OSError, TimeoutError) as exc:
            self._outcome(False, type(exc).__name__)
            raise ClusterUnavailableError(type(exc).__name__) from None
        self._outcome(True, "")
        return result

    def _outcome(self, ok: bool, error: str) -> None:
        if not ok:
            self.failures += 1
        if ok == self.healthy:
            return
        was, self.healthy = self.healthy, ok
        if ok:
            _log.info("cluster.redis_up", after_outage=was is False)
        else:
            _log.error("cluster.redis_down", error=error)
        if self._on_change is not None:
            self._on_change(ok)

    async def ping(self) -> bool:
        try:
            await self.call(lambda client: _ping(client))
        except ClusterUnavailableError:
            return False
        return True

    async def watch(self) -> None:
        """Ping forever (a task of the replica's cluster)."""
        while True:
            await self.ping()
            await asyncio.sleep(self.ping_interval_s)

    async def aclose(self) -> None:
        try:
            async with asyncio.timeout(self.op_timeout_s):
                await self.client.aclose()
        except (RedisError, OSError, TimeoutError):
            pass


async def _ping(client: Redis) -> Any:
    return await client.ping()

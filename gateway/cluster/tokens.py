"""Stream tokens single-use across the cluster: redeemed with one atomic `SET NX`.

Each replica checks a token's signature, call and expiry itself
(`gateway.core.stream_tokens`); in cluster mode it then claims the token's id in Redis with
`SET gw:token:<id> <replica> NX PX <until expiry>`. The first replica to claim it wins; any
other (or the same one again) sees it taken: `token reused`. The key expires with the token, so
Redis remembers exactly the tokens that could still be replayed.
"""

from __future__ import annotations

from gateway.cluster.link import ClusterUnavailableError, RedisLink

__all__ = ["ClusterTokens"]

PREFIX = "gw:token:"


class ClusterTokens:
    def __init__(self, link: RedisLink, replica: str) -> None:
        self._link = link
        self._replica = replica

    async def claim(self, token_id: str, ttl_ms: int) -> bool | None:
        """True: first use in the cluster; False: used before; None: Redis unavailable."""
        ttl = max(1, ttl_ms)
        try:
            claimed = await self._link.call(
                lambda client: client.set(PREFIX + token_id, self._replica, nx=True, px=ttl)
            )
        except ClusterUnavailableError:
            return None
        return bool(claimed)

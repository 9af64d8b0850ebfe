"""Two real `gateway serve` replicas in cluster mode behind the round-robin proxy, one Redis,
the Live emulator: what the cluster's end-to-end tests and bench/cluster.py start."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from gateway.emulator import LiveEmulator
from tests.cluster.proxy import RoundRobinProxy
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN
from tests.e2e.process import GatewayProcess, gateway_process
from tests.redis_server import RedisServer

ENV = {
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "GATEWAY_SECRET": "cluster-secret-0123456789abcdef",
    "GATEWAY_GREETING": "agent",
}


@dataclass
class Cluster:
    redis: RedisServer
    emulator: LiveEmulator
    replicas: list[GatewayProcess]
    proxy: RoundRobinProxy

    async def health(self) -> list[dict[str, object] | None]:
        """Each replica's `/healthz` (None: it does not answer)."""
        out: list[dict[str, object] | None] = []
        async with httpx.AsyncClient(timeout=1.0) as client:
            for replica in self.replicas:
                try:
                    out.append((await client.get(f"{replica.base_url}/healthz")).json())
                except httpx.HTTPError:
                    out.append(None)
        return out


async def until(condition: Callable[[], Awaitable[bool]], timeout_s: float = 30.0) -> None:
    """Poll `condition` until it holds (a condition, not a timing; TimeoutError past the guard)."""
    async with asyncio.timeout(timeout_s):
        while not await condition():  # noqa: ASYNC110 (a condition in another process)
            await asyncio.sleep(0.01)


@asynccontextmanager
async def running_cluster(
    tmp_path: Path, *, replicas: int = 2, env: Mapping[str, str] | None = None
) -> AsyncIterator[Cluster]:
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        async with AsyncExitStack() as stack:
            emulator = await stack.enter_async_context(LiveEmulator())
            settings = {
                **ENV,
                "GATEWAY_LIVE_URL": emulator.plain_url,
                "GATEWAY_REDIS_URL": redis.url,
                **(env or {}),
            }
            processes = []
            for index in range(replicas):
                folder = tmp_path / f"replica{index}"
                folder.mkdir()
                processes.append(await stack.enter_async_context(gateway_process(settings, folder)))
            backends = [("127.0.0.1", int(p.base_url.rsplit(":", 1)[1])) for p in processes]
            proxy = await stack.enter_async_context(RoundRobinProxy(backends))
            yield Cluster(redis, emulator, processes, proxy)
    finally:
        redis.stop()

"""A small round-robin TCP proxy in front of gateway replicas, as a load balancer would be.

Each new connection (a webhook, a media WebSocket) goes to the next replica that is ready: the
proxy polls each one's `GET /readyz` every `poll_s` (like a Kubernetes readiness probe, so a
draining replica gets no new connection) and skips one that refuses the connection (a killed
replica). Bytes are piped both ways until either side closes; a replica killed mid-stream drops
its connections, as a real one would.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools

import httpx

__all__ = ["RoundRobinProxy"]


class RoundRobinProxy:
    def __init__(self, backends: list[tuple[str, int]], *, poll_s: float = 0.2) -> None:
        self.backends = backends
        self.ready = dict.fromkeys(backends, True)
        self.poll_s = poll_s
        self._turn = itertools.count()
        self._server: asyncio.Server | None = None
        self._poller: asyncio.Task[None] | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self.port = 0
        self.connections: dict[tuple[str, int], int] = dict.fromkeys(backends, 0)
        self.paused: set[tuple[str, int]] = set()
        """Backends given no new connection whatever their readiness (a benchmark's pinning)."""

    def replace(self, old: tuple[str, int], new: tuple[str, int]) -> None:
        """A replica restarted on another port takes the old one's place."""
        self.backends[self.backends.index(old)] = new
        self.ready[new] = True
        self.connections[new] = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> RoundRobinProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self._poller = asyncio.create_task(self._poll())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        assert self._poller is not None
        self._poller.cancel()
        self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(self._poller, *self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    async def _poll(self) -> None:
        async with httpx.AsyncClient(timeout=0.5) as client:
            while True:
                for host, port in list(self.backends):
                    try:
                        answer = await client.get(f"http://{host}:{port}/readyz")
                        self.ready[(host, port)] = answer.status_code == 200
                    except httpx.HTTPError:
                        self.ready[(host, port)] = False
                await asyncio.sleep(self.poll_s)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        n = len(self.backends)
        for _ in range(2 * n):
            backend = self.backends[next(self._turn) % n]
            if not self.ready.get(backend) or backend in self.paused:
                continue
            try:
                pair = await asyncio.open_connection(*backend)
            except OSError:
                self.ready[backend] = False
                continue
            self.connections[backend] += 1
            return pair
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            pair = await self._connect()
            if pair is None:
                return
            up_reader, up_writer = pair
            try:
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                up_writer.close()
        except asyncio.CancelledError:
            pass  # the proxy is closing: the connection ends with it
        finally:
            writer.close()
            self._pipes.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        if writer.can_write_eof():
            writer.write_eof()

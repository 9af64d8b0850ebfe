"""A TCP proxy in front of the Live emulator that can take Live away for a while (e2e tests).

Connections are forwarded byte for byte until the outage begins: with connection number
`down_from` (1-based), for `outage_s` seconds every new connection is accepted and then left
silent, as a black-holed network leaves it (the client's opening handshake times out). Once the
outage is over, connections are forwarded again. With `late=True` a connection made during the
outage is not dropped but forwarded once the outage is over (a very slow network): its session
opens late. `connections` counts every connection accepted, `held` those the outage held.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class OutageProxy:
    def __init__(
        self, target_port: int, *, down_from: int, outage_s: float, late: bool = False
    ) -> None:
        self._target_port = target_port
        self._late = late
        self._down_from = down_from
        self._outage_s = outage_s
        self._down_until: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0
        self.held = 0

    def _down(self, now: float) -> bool:
        if self._down_until is None and self.connections >= self._down_from:
            self._down_until = now + self._outage_s
        return self._down_until is not None and now < self._down_until

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        loop = asyncio.get_running_loop()
        if self._down(loop.time()):
            self.held += 1
            if not self._late:
                with contextlib.suppress(OSError):
                    await reader.read()  # silent until the client gives up
                writer.close()
                return
            assert self._down_until is not None
            await asyncio.sleep(self._down_until - loop.time())  # then forwarded
        upstream_reader, upstream_writer = await asyncio.open_connection(
            "127.0.0.1", self._target_port
        )

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65_536):
                    sink.write(data)
                    await sink.drain()
            with contextlib.suppress(OSError):
                sink.close()

        await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))

    def _track(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[int]:
        """Serve on a free loopback port (yielded) until the block ends."""
        server = await asyncio.start_server(self._track, "127.0.0.1", 0)
        try:
            yield server.sockets[0].getsockname()[1]
        finally:
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.wait_closed()

"""The connection guard on a real uvicorn server (loopback): the request deadline, the waiting
cap and its eviction order, and keep-alive connections left to uvicorn's own timer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.shell.http_guard import ConnectionGuard, guarded_protocol
from tests.e2e.harness import wait_for

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _ping(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("pong")


@asynccontextmanager
async def _server(guard: ConnectionGuard) -> AsyncIterator[int]:
    app = Starlette(routes=[Route("/ping", _ping)])
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        http=guarded_protocol(guard),
        lifespan="off",
        log_config=None,
        timeout_keep_alive=60,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await wait_for(lambda: server.started, 10)
    port: int = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.should_exit = True
        server.force_exit = True
        await task


async def _get(connection: Connection) -> bytes:
    reader, writer = connection
    writer.write(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    body = await reader.readexactly(4)
    return head.split(b"\r\n", 1)[0] + b" " + body


async def _closed(reader: asyncio.StreamReader) -> bool:
    try:
        return await reader.read(1) == b""
    except ConnectionError:
        return True


def _close_all(connections: list[Connection]) -> None:
    for _reader, writer in connections:
        writer.close()


async def test_the_longest_waiting_connections_make_room_for_new_ones() -> None:
    guard = ConnectionGuard(request_timeout_s=600, max_pending=8)
    async with _server(guard) as port:
        idle: list[Connection] = []
        for _ in range(20):
            idle.append(await asyncio.open_connection("127.0.0.1", port))
            count = len(idle)  # accepted, in order
            await wait_for(lambda n=count: guard.waiting + guard.evicted == n, 10)
        probe = await asyncio.open_connection("127.0.0.1", port)
        answer = await _get(probe)
        evicted = [await _closed(reader) for reader, _writer in idle[:13]]
        waiting, evicted_count = guard.waiting, guard.evicted
        _close_all([*idle, probe])
    assert answer == b"HTTP/1.1 200 OK pong"
    # 20 idle connections and the probe against a cap of 8: the 13 oldest were closed.
    assert evicted == [True] * 13
    assert evicted_count == 13
    assert waiting == 7  # the 7 youngest idle ones; the probe's request is complete
    assert guard.timed_out == 0


async def test_a_request_dripped_slowly_is_cut_at_the_deadline() -> None:
    guard = ConnectionGuard(request_timeout_s=0.5, max_pending=100)
    async with _server(guard) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        sent = 0
        with contextlib.suppress(ConnectionError):
            for byte in b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000:
                writer.write(bytes([byte]))
                await writer.drain()
                sent += 1
                with contextlib.suppress(TimeoutError):
                    if await asyncio.wait_for(reader.read(1), 0.05) == b"":
                        break
        writer.close()
    assert sent < 1000
    assert guard.timed_out == 1
    assert guard.waiting == 0


async def test_a_keep_alive_connection_idle_between_requests_is_not_cut() -> None:
    guard = ConnectionGuard(request_timeout_s=0.3, max_pending=100)
    async with _server(guard) as port:
        connection = await asyncio.open_connection("127.0.0.1", port)
        first = await _get(connection)
        await asyncio.sleep(1.0)  # idle past the request deadline: uvicorn's keep-alive applies
        second = await _get(connection)
        connection[1].close()
    assert first == second == b"HTTP/1.1 200 OK pong"
    assert guard.timed_out == 0
    assert guard.evicted == 0


async def test_a_connection_that_sends_nothing_is_closed_at_the_deadline() -> None:
    guard = ConnectionGuard(request_timeout_s=0.3, max_pending=100)
    async with _server(guard) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        closed = await asyncio.wait_for(_closed(reader), 30)
        writer.close()
    assert closed
    assert guard.timed_out == 1

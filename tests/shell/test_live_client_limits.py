"""Oversized Live messages: our client's 1009 is resumable (the call goes on), the server's not."""

from __future__ import annotations

import asyncio

from websockets.asyncio.server import ServerConnection, serve

from gateway.live.closes import CloseInfo, CloseKind
from gateway.live.endpoints import custom_endpoint
from gateway.live.setup import LiveConfig
from gateway.shell.live_client import ClientOptions, LiveClosedError, LiveSession, connect

CONFIG = LiveConfig()


async def _closed(session: LiveSession) -> CloseInfo:
    try:
        while True:
            await session.recv()
    except LiveClosedError as exc:
        return exc.close


def test_a_message_over_the_client_limit_closes_1009_resumable() -> None:
    async def sends_too_much(connection: ServerConnection) -> None:
        await connection.recv()
        await connection.send(b'{"setupComplete":{}}')
        await connection.send(b'{"serverContent":{"turnComplete":true}}')
        await connection.send(b'{"x":"' + b"A" * 2_000 + b'"}')  # 2 008 bytes
        await connection.wait_closed()

    async def body() -> None:
        async with serve(sends_too_much, "127.0.0.1", 0, max_size=None) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            options = ClientOptions(max_message_bytes=1_000)
            session = await connect(
                custom_endpoint(f"ws://127.0.0.1:{port}/"), CONFIG, options=options
            )
            assert len(await session.recv()) == 1  # the message within the limit is read
            close = await _closed(session)
        assert close == CloseInfo(
            1009,
            "message over the gateway's limit: frame with 2008 bytes exceeds limit of 1000 bytes",
            CloseKind.RESUMABLE,
        )
        assert not session.is_open

    asyncio.run(body())


def test_a_1009_from_the_server_stays_fatal() -> None:
    async def refuses(connection: ServerConnection) -> None:
        await connection.recv()
        await connection.send(b'{"setupComplete":{}}')
        await connection.close(1009, "message too big")

    async def body() -> None:
        async with serve(refuses, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            session = await connect(custom_endpoint(f"ws://127.0.0.1:{port}/"), CONFIG)
            close = await _closed(session)
        assert close == CloseInfo(1009, "message too big", CloseKind.FATAL_CONFIG)

    asyncio.run(body())

"""The start-up warm-up of the HTTP client: a loopback request through the client, the known
hosts resolved, no request to any backend, and nothing that can fail start-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from structlog.testing import capture_logs

from gateway.settings import load_settings
from gateway.shell.warmup import carrier_rest_origins, origin, tool_origins, warm_up
from gateway.tools.config import load_toolbox

DOCS_TOOLS = Path(__file__).resolve().parents[2] / "docs" / "examples" / "tools.toml"


@asynccontextmanager
async def _backend() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A plain HTTP server on loopback that records every request head it gets."""
    heads: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            heads.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", heads
    finally:
        server.close()


async def test_warm_up_sends_nothing_to_the_backends_and_resolves_their_hosts() -> None:
    async with _backend() as (url, heads), httpx.AsyncClient() as client:
        with capture_logs() as logs:
            results = await warm_up(client, [url, url])
        assert heads == []  # the backend saw no request
        (await client.get(url + "/after")).raise_for_status()
    assert results == {"loopback": "warm", url: "resolved"}
    assert [(line["event"], line["log_level"]) for line in logs] == [("http.warmed", "info")]
    assert len(heads) == 1


async def test_a_host_that_does_not_resolve_is_a_warning_not_a_failure() -> None:
    async with httpx.AsyncClient() as client:
        with capture_logs() as logs:
            results = await warm_up(client, ["https://no-such-host.invalid"], timeout_s=2.0)
    assert results["loopback"] == "warm"
    assert results["https://no-such-host.invalid"] != "resolved"
    assert logs[0]["log_level"] == "warning"


async def test_nothing_to_resolve_still_warms_the_client() -> None:
    async with httpx.AsyncClient() as client:
        assert await warm_up(client, []) == {"loopback": "warm"}


def test_the_known_origins_of_tools_and_carrier_rest() -> None:
    env = {"EXAMPLE_BACKEND_URL": "http://backend.internal:8081", "EXAMPLE_BACKEND_TOKEN": "t"}
    toolbox = load_toolbox(DOCS_TOOLS, env)
    assert tool_origins(toolbox) == ["http://backend.internal:8081"]
    assert tool_origins(None) == []
    settings = load_settings(
        {
            "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
            "TWILIO_AUTH_TOKEN": "token-0123456789",
            "TELNYX_API_KEY": "KEY0123456789",
            "PLIVO_AUTH_TOKEN": "plivo-token-0123",  # no PLIVO_AUTH_ID: no REST
        },
        env_file=None,
    )
    assert carrier_rest_origins(settings) == ["https://api.twilio.com", "https://api.telnyx.com"]
    assert carrier_rest_origins(load_settings({}, env_file=None)) == []
    assert origin("https://user:pw@api.example.com:8443/v1?x=1") == "https://api.example.com:8443"
    assert origin("ws://example.com/") is None

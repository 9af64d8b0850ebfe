"""Warming the outbound HTTP client at start-up, so the first call does not pay for it.

A process's first request on an `httpx.AsyncClient` took 25 to 45 ms where later ones took 1 to
5 ms (`bench/first_request.py`: 35 ms median, 25-62 ms, against 1-2 ms after). Nearly all of it
is per process, not per connection: the client's lazily imported and initialised machinery
(connection pool, async backend, HTTP/1.1 parser, URL handling). A first request to a different
host already brings the next one to 2 ms. So `warm_up` sends one request through the client to a
throwaway server on the loopback interface (nothing leaves the machine, no backend sees a
request), and resolves the known hosts of the HTTP tools' backends and the carriers' REST APIs
(a name that does not resolve is a warning at start-up, not a failed first call). Opening the
real connections early would not help: the pool closes idle connections after a few seconds,
long before the first call needs them. Bounded by `timeout_s`; never fails start-up.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx

from gateway.carriers import registry
from gateway.log import get_logger
from gateway.settings import Settings
from gateway.tools.http_tool import HttpHandler
from gateway.tools.toolbox import Toolbox

__all__ = ["WARM_UP_TIMEOUT_S", "carrier_rest_origins", "origin", "tool_origins", "warm_up"]

_log = get_logger(component="warmup")
WARM_UP_TIMEOUT_S = 2.0
"""The whole warm-up's bound: start-up waits no longer for slow or unreachable hosts."""


def origin(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL (None for anything else)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or "{" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def tool_origins(toolbox: Toolbox | None) -> list[str]:
    """The origins of the HTTP tools' backends (their URL templates fix the host)."""
    if toolbox is None:
        return []
    found: list[str] = []
    for name in toolbox.names:
        tool = toolbox.tool(name)
        handler = tool.handler if tool is not None else None
        if isinstance(handler, HttpHandler):
            found.append(handler.url)
    return _unique(found)


def carrier_rest_origins(settings: Settings) -> list[str]:
    """The REST API origins of the registered carriers whose call control is configured (each
    plug-in's `rest_base`)."""
    found = (plugin.rest_base(settings.carrier(plugin.name)) for plugin in registry.carriers())
    return _unique(base for base in found if base is not None)


def _unique(urls: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for url in urls:
        found = origin(url)
        if found is not None:
            seen.setdefault(found, None)
    return list(seen)


async def _loopback_request(client: httpx.AsyncClient, timeout_s: float) -> str:
    """One request through `client` to a one-shot server on 127.0.0.1: `warm`, or why not."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        await client.get(f"http://127.0.0.1:{port}/warm-up", timeout=timeout_s)
    except Exception as exc:  # a sandbox without loopback: the first call pays, nothing worse
        return type(exc).__name__
    finally:
        server.close()
    return "warm"


async def _resolve(origin_url: str, timeout_s: float) -> str:
    parts = urlsplit(origin_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout_s):
            await loop.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        return "dns timeout"
    except OSError as exc:
        return f"does not resolve ({exc.strerror or type(exc).__name__})"
    return "resolved"


async def warm_up(
    client: httpx.AsyncClient,
    origins: Iterable[str],
    *,
    timeout_s: float = WARM_UP_TIMEOUT_S,
    what: str = "http",
) -> dict[str, str]:
    """Warm `client` with one loopback request and resolve the hosts of `origins`, all at once
    within about `timeout_s`. Returns what happened per origin (and `loopback`); logs one
    `http.warmed` line, a warning when a host does not resolve. Never raises (but for
    cancellation). `what` names the client in the log line."""
    targets = list(dict.fromkeys(origins))
    started = time.perf_counter()
    jobs = {"loopback": _loopback_request(client, timeout_s)}
    jobs.update({target: _resolve(target, timeout_s) for target in targets})
    outcomes = await asyncio.gather(*jobs.values(), return_exceptions=True)
    results = {
        name: outcome if isinstance(outcome, str) else type(outcome).__name__
        for name, outcome in zip(jobs, outcomes, strict=True)
    }
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    cold = any(result not in ("warm", "resolved") for result in results.values())
    log = _log.warning if cold else _log.info
    log("http.warmed", client=what, results=results, elapsed_ms=elapsed_ms)
    return results

"""Python tools for the tests (referenced as `tests.tools.sample_functions:<name>`)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from gateway.tools import ToolContext, ToolError

SECRET_IN_MESSAGE = "db-password-hunter2"
arrived = 0
both_arrived: asyncio.Event | None = None


def add(a: int, b: int = 0) -> dict[str, Any]:
    return {"sum": a + b, "thread": threading.current_thread().name}


async def greet(name: str, context: ToolContext) -> dict[str, Any]:
    return {
        "greeting": f"hello {name}",
        "carrier": context.carrier,
        "carrier_call_id": context.carrier_call_id,
        "from": context.from_number,
    }


def explode() -> None:
    raise RuntimeError(f"could not connect with {SECRET_IN_MESSAGE}")


def refuse() -> None:
    raise ToolError("no customer with that number")


def returns_set() -> set[int]:
    return {1, 2}


def returns_tuple() -> tuple[int, str]:
    return (1, "two")


def own_timeout() -> None:
    raise TimeoutError


async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "done"


async def rendezvous() -> str:
    """Returns only once two calls of it are running at the same time."""
    global arrived, both_arrived
    if both_arrived is None:
        both_arrived = asyncio.Event()
    arrived += 1
    if arrived == 2:
        both_arrived.set()
    await both_arrived.wait()
    return "met"


def reset_rendezvous() -> None:
    global arrived, both_arrived
    arrived, both_arrived = 0, None


hang_release = threading.Event()
hang_started: list[str] = []


def hang(n: int = 0) -> str:
    """Blocks its worker thread until the test sets `hang_release` (a tool that hangs)."""
    hang_started.append(threading.current_thread().name)
    hang_release.wait(60)
    return "released"


def reset_hang() -> None:
    hang_release.clear()
    hang_started.clear()

"""TimerSet: one pending timer per name, replaced and cancelled by name."""

from __future__ import annotations

import asyncio

from gateway.shell.timers import TimerSet


async def test_timers_fire_in_time_order_and_replace_by_name() -> None:
    loop = asyncio.get_running_loop()
    fired: list[str] = []
    timers = TimerSet(loop, fired.append)
    now_ms = loop.time() * 1000
    timers.start("b", now_ms + 30)
    timers.start("a", now_ms + 10)
    timers.start("c", now_ms + 20)
    timers.start("c", now_ms + 40)  # replaces the first "c"
    timers.start("gone", now_ms + 5)
    timers.cancel("gone")
    assert len(timers) == 3
    await asyncio.sleep(0.08)
    assert fired == ["a", "b", "c"]
    assert len(timers) == 0


async def test_cancel_all_leaves_nothing_pending() -> None:
    loop = asyncio.get_running_loop()
    fired: list[str] = []
    timers = TimerSet(loop, fired.append)
    timers.start("x", loop.time() * 1000 + 5)
    timers.cancel_all()
    await asyncio.sleep(0.02)
    assert fired == []
    assert len(timers) == 0

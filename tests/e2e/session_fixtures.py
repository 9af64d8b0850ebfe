"""Python tools for the session tests (loaded through a tools file by the real gateway)."""

from __future__ import annotations

import asyncio


async def slow_lookup(order: str) -> dict[str, str]:
    """Answers after 1.5 s: long enough for a forced handover to happen while it runs."""
    await asyncio.sleep(1.5)
    return {"order": order, "status": "shipped"}

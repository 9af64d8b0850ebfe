"""Example `python` tools (declared in docs/examples/tools.toml).

`business_hours` is a plain function (the gateway runs it in a worker thread); `caller_number`
is an `async def` that reads the call's context. Both return JSON; `business_hours` raises
`ToolError` for a day it does not know, which the model hears as an error it can talk about.
"""

from __future__ import annotations

from typing import Any, Final

from gateway.tools.base import ToolContext, ToolError

__all__ = ["OPENING_HOURS", "business_hours", "caller_number"]

OPENING_HOURS: Final[dict[str, str | None]] = {
    "monday": "09:00-17:00",
    "tuesday": "09:00-17:00",
    "wednesday": "09:00-17:00",
    "thursday": "09:00-19:00",
    "friday": "09:00-17:00",
    "saturday": "10:00-14:00",
    "sunday": None,
}


def business_hours(day: str | None = None) -> dict[str, Any]:
    """Opening hours for one day, or for the whole week when no day is given."""
    if day is None:
        return {"opening_hours": {d: hours or "closed" for d, hours in OPENING_HOURS.items()}}
    key = day.strip().lower()
    if key not in OPENING_HOURS:
        raise ToolError(f"{day!r} is not a day of the week")
    hours = OPENING_HOURS[key]
    return {"day": key, "open": hours is not None, "hours": hours or "closed"}


async def caller_number(context: ToolContext) -> dict[str, Any]:
    """The number the caller is calling from, when the carrier told us."""
    return {"caller_number": context.from_number or "unknown"}

"""`gateway dial`: place dial-outs through a running gateway's own API and follow them.

One call (`gateway dial +15551234567 --profile reminders --var customer_name=Ada`) or a list
(`gateway dial --csv list.csv --rate 1/s`): each `POST /calls` starts no sooner than 1/rate
after the previous one; a 503 (the gateway is at GATEWAY_MAX_CALLS or draining: admission) is
retried after a pause, so the campaign stays inside admission; other refusals are counted as
failed with their reason. Each placed call is then followed with `GET /calls/{id}` until it
ended. A progress bar goes to stderr, the summary table to stdout.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

import httpx

from gateway.outbound.campaign import CampaignRow, outcome_of, progress_bar, summary_table

__all__ = ["run_campaign"]

ADMISSION_PAUSE_S = 2.0
POLL_S = 1.0


async def _place(
    client: httpx.AsyncClient, row: CampaignRow, headers: Mapping[str, str], err: TextIO
) -> str | None:
    """The dial-out's id, or None (refused: said on `err`)."""
    while True:
        response = await client.post("/calls", json=dict(row.body), headers=dict(headers))
        if response.status_code == 503:  # admission: wait for room
            await asyncio.sleep(ADMISSION_PAUSE_S)
            continue
        if response.status_code == 201:
            dial_id: str = response.json()["id"]
            return dial_id
        try:
            reason = response.json().get("error", "")
        except ValueError:
            reason = response.text[:200]
        print(f"\nline {row.line}: refused ({response.status_code}): {reason}", file=err)
        return None


async def _follow(
    client: httpx.AsyncClient, dial_id: str, headers: Mapping[str, str]
) -> Mapping[str, Any] | None:
    while True:
        response = await client.get(f"/calls/{dial_id}", headers=dict(headers))
        if response.status_code != 200:
            return None
        status: Mapping[str, Any] = response.json()
        if status.get("status") == "ended":
            return status
        await asyncio.sleep(POLL_S)


async def run_campaign(
    base_url: str,
    api_key: str,
    rows: Sequence[CampaignRow],
    rate_per_s: float,
    *,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    timeout_s: float = 10.0,
) -> Counter[str]:
    """Place every row, follow each to its end; the outcomes (also printed as a table)."""
    headers = {"Authorization": f"Bearer {api_key}"}
    outcomes: Counter[str] = Counter()
    total = len(rows)

    def tick() -> None:
        print(f"\r{progress_bar(sum(outcomes.values()), total)}", end="", file=err, flush=True)

    async with httpx.AsyncClient(base_url=base_url, timeout=timeout_s) as client:

        async def one(row: CampaignRow) -> None:
            dial_id = await _place(client, row, headers, err)
            status = None if dial_id is None else await _follow(client, dial_id, headers)
            outcomes[outcome_of(status, refused=dial_id is None)] += 1
            tick()

        tick()
        loop = asyncio.get_running_loop()
        async with asyncio.TaskGroup() as group:
            start = loop.time()
            for index, row in enumerate(rows):
                due = start + index / rate_per_s  # paced by deadline, not by sleeps after each
                await asyncio.sleep(max(0.0, due - loop.time()))
                group.create_task(one(row))
    print(file=err)
    print(summary_table(outcomes), file=out)
    return outcomes

"""`gateway dial --csv`: a campaign through the real gateway's API against the simulator's
callees (a person, a busy line, a machine), one row refused by the allowlist; the summary."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import httpx

from gateway.outbound.campaign import read_rows
from gateway.shell.dial_client import run_campaign
from gateway.sim.callee import CalleePlan
from tests.e2e.harness import run_real_time
from tests.e2e.outbound_cases import API_KEY, CALLER_ID, CARRIERS, dial_out, recording

CSV = """to,customer_name,day
+15550104201,Ada,Tuesday
+15550104202,Grace,Monday
+15550104203,Alan,Friday
+4420794600,Tim,Sunday
"""


def test_a_campaign_from_a_csv(tmp_path: Path) -> None:
    hello = recording("callee_hello")
    greeting = recording("voicemail_greeting")
    plans = {
        "+15550104201": CalleePlan("person", hello.script),
        "+15550104202": CalleePlan("busy"),
        "+15550104203": CalleePlan("machine", greeting.script, verdict_ms=8_000),
    }
    rows = read_rows(
        CSV, {"from": CALLER_ID, "profile": "reminders", "machine_detection": "hang_up"}
    )
    out, err = io.StringIO(), io.StringIO()
    outcomes: Counter[str] = Counter()

    async def campaign(client: httpx.AsyncClient) -> list[httpx.Response]:
        outcomes.update(
            await run_campaign(str(client.base_url), API_KEY, rows, 5.0, out=out, err=err)
        )
        return []

    run = run_real_time(dial_out(tmp_path, CARRIERS["twilio"], lambda to: plans[to], campaign))
    assert outcomes == Counter({"person": 1, "busy": 1, "machine": 1, "failed": 1})
    assert sorted(call.field("To") for call in run.api.calls.values()) == sorted(plans)
    assert "line 5: refused (403): destination not allowed" in err.getvalue()
    assert "[##############################] 4/4" in err.getvalue()
    assert out.getvalue().splitlines() == [
        "outcome     calls",
        "----------  -----",
        "person          1",
        "machine         1",
        "no answer       0",
        "busy            1",
        "failed          1",
        "other           0",
        "----------  -----",
        "total           4",
    ]

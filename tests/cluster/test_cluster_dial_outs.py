"""Dial-outs in cluster mode end to end: two real replicas, one real Redis, the simulator's
callee behind a fake Twilio REST API (`gateway.sim.callee`).

A dial-out placed through one replica whose answer webhook, callbacks and stream all land on
the other is bridged with the request's agent and variables, and `GET /calls/{id}` answers the
same on both replicas; a machine verdict landing on the replica that does not run the call
reaches the call; a cluster at GATEWAY_CLUSTER_MAX_CALLS refuses `POST /calls` (a ringing
dial-out holds a slot) and the slot comes back once nobody answered.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis

from gateway.sim.callee import CalleePlan, FakeCarrierApi
from gateway.sim.entries import CallOutcome
from tests.cluster.cluster_fixtures import Cluster, running_cluster, until
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN
from tests.e2e.outbound_cases import API_KEY, PROFILES, auth, body, recording
from tests.e2e.process import GatewayProcess, json_lines
from tests.loopback import serve_app

VERDICT_AFTER_BEEP_MS = 300.0


@dataclass
class DialCluster:
    cluster: Cluster
    api: FakeCarrierApi
    store: aioredis.Redis


@asynccontextmanager
async def dial_cluster(
    tmp_path: Path, plan: CalleePlan, env: Mapping[str, str] | None = None
) -> AsyncIterator[DialCluster]:
    profiles = tmp_path / "agents.toml"
    profiles.write_text(PROFILES)
    api = FakeCarrierApi(lambda to: plan, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    try:
        async with serve_app(api.app) as api_url:
            settings = {
                "GATEWAY_API_KEY": API_KEY,
                "GATEWAY_DIAL_ALLOWED_PREFIXES": "+1555010",
                "GATEWAY_AGENTS_FILE": str(profiles),
                "TWILIO_API_BASE": api_url,
                # the silence watch off, as in tests/e2e (a machine's greeting is long)
                "GATEWAY_SILENCE_PROMPT_S": "0",
                **(env or {}),
            }
            async with running_cluster(tmp_path, env=settings) as cluster:
                store = aioredis.Redis.from_url(cluster.redis.url, decode_responses=True)
                try:
                    yield DialCluster(cluster, api, store)
                finally:
                    await store.aclose()
    finally:
        await api.aclose()


async def _place(via: GatewayProcess, callbacks_to: str, **overrides: Any) -> httpx.Response:
    """`POST /calls` on `via`, as if the carrier reached the gateway at `callbacks_to` (the
    URLs the carrier is given name that host: its webhooks land there)."""
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.post(
            f"{via.base_url}/calls",
            json=body(**overrides),
            headers={**auth(), "Host": callbacks_to.removeprefix("http://")},
        )


async def _status(replica: GatewayProcess, dial_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=5) as client:
        answer = await client.get(f"{replica.base_url}/calls/{dial_id}", headers=auth())
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _ended_calls(replica: GatewayProcess) -> list[dict[str, Any]]:
    return [line for line in json_lines(replica.stdout) if line.get("event") == "call.ended"]


async def _done(run: DialCluster) -> None:
    async with asyncio.timeout(60):
        for call in list(run.api.calls.values()):
            await call.done.wait()


async def _no_slot(store: aioredis.Redis) -> bool:
    return await store.zcard("gw:slots") == 0


async def _running(replica: GatewayProcess) -> bool:
    async with httpx.AsyncClient() as client:
        return bool((await client.get(f"{replica.base_url}/healthz")).json()["active_calls"])


async def test_a_dial_out_placed_on_one_replica_is_bridged_by_the_other(tmp_path: Path) -> None:
    plan = CalleePlan("person", recording("greeting_question").script)
    async with dial_cluster(tmp_path, plan) as run:
        a, b = run.cluster.replicas
        created = await _place(a, b.base_url)
        assert created.status_code == 201, created.text
        dial_id = created.json()["id"]
        await _done(run)
        (callee,) = run.api.calls.values()
        assert callee.field("Url") == f"{b.base_url}/twilio/voice"
        assert [status for _, _, status in callee.callbacks] == [204] * len(callee.callbacks)
        assert callee.report is not None
        assert callee.report.outcome is CallOutcome.COMPLETED
        assert callee.report.agent_segments, "the callee heard the agent"
        await until(lambda: _no_slot(run.store))  # the call's slot given back
        # b never saw the POST, yet ran the call with the request's agent and variables.
        assert _ended_calls(a) == []
        (call,) = _ended_calls(b)
        assert call["call_sid"] == callee.sid
        assert (call["profile"], call["direction"]) == ("reminders", "outbound")
        assert call["outbound"]["dial_id"] == dial_id
        (session,) = run.cluster.emulator.recorder.sessions
        instructions = str(session.setups[0])
        assert "You call Ada to remind them of their appointment on Tuesday." in instructions
        # Both replicas report the same status.
        on_a, on_b = await _status(a, dial_id), await _status(b, dial_id)
        assert on_a == on_b
        assert (on_a["status"], on_a["end_reason"]) == ("ended", "completed")
        assert on_a["time_to_answer_ms"] is not None
        # The record is in Redis, found by the carrier's call id, and expires.
        assert await run.store.get(f"gw:dial_call:{callee.sid}") == dial_id
        stored = json.loads(await run.store.get(f"gw:dial:{dial_id}") or "{}")
        assert stored["variables"] == {"customer_name": "Ada", "day": "Tuesday"}
        assert stored["dial"]["status"] == "ended"
        assert await run.store.ttl(f"gw:dial:{dial_id}") > 0


async def test_a_verdict_landing_on_the_other_replica_reaches_the_call(tmp_path: Path) -> None:
    greeting = recording("voicemail_greeting")
    beep = greeting.script.utterances[-1]
    plan = CalleePlan("machine", greeting.script, verdict_ms=beep.end_ms + VERDICT_AFTER_BEEP_MS)
    async with dial_cluster(tmp_path, plan) as run:
        a, b = run.cluster.replicas
        proxy = run.cluster.proxy
        backend_a, backend_b = proxy.backends
        proxy.paused = {backend_a}  # the webhook and the stream go to b
        created = await _place(a, proxy.url, machine_detection="hang_up")
        assert created.status_code == 201, created.text
        await until(lambda: _running(b))
        proxy.paused = {backend_b}  # the verdict goes to a
        await _done(run)
        (callee,) = run.api.calls.values()
        assert [status for _, _, status in callee.callbacks] == [204] * len(callee.callbacks)
        # b's bridge hung up on the machine (the verdict came through Redis): once, and the
        # machine never heard the agent.
        assert callee.updates == [{"Status": ["completed"]}]
        assert callee.report is not None
        assert callee.report.agent_segments == ()
        assert _ended_calls(a) == []
        (call,) = _ended_calls(b)
        assert call["call_action"] == "hang_up"
        assert call["outbound"]["opening"]["answered_by"] == "machine"
        assert any(
            line.get("event") == "dial.verdict_passed_on" and line.get("passed")
            for line in json_lines(a.stdout)
        )
        status = await _status(b, created.json()["id"])
        assert status == await _status(a, created.json()["id"])
        assert (status["answered_by"], status["end_reason"]) == ("machine", "machine_hung_up")
        await until(lambda: _no_slot(run.store))


async def test_a_ringing_dial_out_holds_a_cluster_slot_until_nobody_answers(
    tmp_path: Path,
) -> None:
    plan = CalleePlan("no_answer", ring_s=5.0)
    env = {"GATEWAY_CLUSTER_MAX_CALLS": "1"}
    async with dial_cluster(tmp_path, plan, env) as run:
        a, b = run.cluster.replicas
        first = await _place(a, b.base_url)
        assert first.status_code == 201, first.text
        # While it rings the cluster is full: b refuses another dial-out.
        refused = await _place(b, b.base_url)
        assert refused.status_code == 503
        assert refused.json() == {"error": "not taking calls now (cluster at capacity)"}
        assert set(run.api.calls) == {next(iter(run.api.calls))}  # nothing else placed
        await _done(run)
        status = await _status(a, first.json()["id"])
        assert (status["status"], status["end_reason"]) == ("ended", "no_answer")
        await until(lambda: _no_slot(run.store))  # b's no-answer callback gave it back
        again = await _place(b, a.base_url)
        assert again.status_code == 201, again.text
        await _done(run)
        await until(lambda: _no_slot(run.store))

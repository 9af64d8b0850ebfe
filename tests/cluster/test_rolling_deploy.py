"""Cluster mode end to end, a rolling deploy: SIGTERM to the replica holding a call with pauses.

The replica turns unready at once, hands the call over at its next turn boundary (its state
saved, its stream closed), and exits long before GATEWAY_DRAIN_TIMEOUT_S; the simulator
requests the `<Connect action>` URL and the other replica carries the call on, resuming the
Live session with the stored handle and greeting nobody twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from pathlib import Path

import numpy as np
import redis.asyncio as aioredis

from gateway.emulator import SessionRecord
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.script import CallScript, SimOptions, new_call_sid
from tests.cluster.cluster_fixtures import running_cluster, until
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN
from tests.e2e.process import json_lines

RECORDING = Path(__file__).resolve().parents[1] / "recordings" / "greeting_question.wav"


def _script() -> CallScript:
    """The recorded caller, a pause, the caller again, then some seconds on the line."""
    first = load_recording(RECORDING).script
    gap = np.zeros(8 * 8000, dtype=np.int16)
    audio = np.concatenate([first.audio, gap, first.audio])
    return dataclasses.replace(first, audio=audio, utterances=(), tail_ms=5_000.0)


async def test_sigterm_hands_the_call_over_at_a_turn_boundary(tmp_path: Path) -> None:
    env = {"GATEWAY_DRAIN_TIMEOUT_S": "600"}
    async with running_cluster(tmp_path, env=env) as cluster:
        options = SimOptions(
            auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID, call_sid=new_call_sid()
        )
        call = asyncio.create_task(place_call(cluster.proxy.url, _script(), options))
        emulator = cluster.emulator
        store = aioredis.Redis.from_url(cluster.redis.url, decode_responses=True)
        sessions: list[SessionRecord] = []

        async def handle_stored() -> bool:
            """The owner stored a handle: `sessions` names the session that issued it (not a
            discarded pre-warm)."""
            stored = await store.hget(f"gw:call:{options.call_sid}", "handle")
            found = [r for r in emulator.recorder.sessions if stored in dict(r.handles).values()]
            sessions[:] = found
            return bool(found)

        try:
            await until(handle_stored)
        finally:
            await store.aclose()
        session = sessions[0]
        health = await cluster.health()
        holder = next(
            r for r, h in zip(cluster.replicas, health, strict=True) if h and h["active_calls"]
        )
        survivor = next(r for r in cluster.replicas if r is not holder)
        holder.signal(signal.SIGTERM)
        status, stdout, _ = await holder.exited()  # long before the 600 s drain timeout
        assert status == 0
        lines = json_lines(stdout)
        handing = [line for line in lines if line["event"] == "cluster.handing_over"]
        assert len(handing) == 1
        assert handing[0]["forced"] is False  # at a turn boundary
        ended = [line for line in lines if line["event"] == "call.ended"]
        assert [line["end_reason"] for line in ended] == ["handover"]

        report = await asyncio.wait_for(call, 90)
        assert report.outcome is CallOutcome.COMPLETED, report.timeline
        assert len(report.earlier_legs) == 1
        resumes = [s.get("sessionResumption", {}).get("handle") for s in session.setups]
        assert resumes[-1] is not None
        assert resumes[-1] in [handle for _, handle in session.handles]
        assert len([text for text in session.texts if "Greet" in text]) == 1
        assert any("cluster.carrying_on" in line for line in survivor.stdout.splitlines())

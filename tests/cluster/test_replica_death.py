"""Cluster mode end to end: two real replicas, one Redis, the proxy, the carrier simulator
following Twilio's `<Connect action>` rule, the Live emulator.

`kill -9` of the replica holding a call while the caller talks: the stream drops, the
simulator requests the action URL, the other replica answers a new stream with a fresh token,
and the call goes on there, its Live session resumed with the newest handle the dead replica
stored, with no second greeting; no slot leaks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pytest
import redis.asyncio as aioredis

from gateway.emulator import SessionRecord
from gateway.sim.call import place_call
from gateway.sim.dialect import CarrierDialect
from gateway.sim.entries import CallOutcome
from gateway.sim.plivo import PlivoDialect
from gateway.sim.recording import load_recording
from gateway.sim.script import CallScript, SimOptions, new_call_sid
from gateway.sim.signalwire import SignalWireDialect
from gateway.sim.telnyx import TelnyxDialect
from gateway.sim.twilio import TwilioDialect
from tests.cluster.cluster_fixtures import running_cluster, until
from tests.e2e.carrier_cases import CASES
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN

IN_FLIGHT_MS = 500.0
"""What the killed replica may have had in flight (read from the carrier, not yet sent to Live,
or sent and not yet read by Live) at the kill, at most."""
RECORDING = Path(__file__).resolve().parents[1] / "recordings" / "greeting_question.wav"


def _script() -> CallScript:
    """The recorded caller twice over, 6 s apart, then 4 s on the line."""
    first = load_recording(RECORDING).script
    gap = np.zeros(6 * 8000, dtype=np.int16)
    audio = np.concatenate([first.audio, gap, first.audio])
    return dataclasses.replace(first, audio=audio, utterances=(), tail_ms=4_000.0)


CARRIERS: dict[str, tuple[Mapping[str, str], Callable[[], CarrierDialect], str, str]] = {
    # carrier: (gateway environment, simulator dialect, signing secret, account id)
    "twilio": ({}, TwilioDialect, AUTH_TOKEN, ACCOUNT_SID),
    "signalwire": (
        {"SIGNALWIRE_SIGNING_KEY": AUTH_TOKEN}, SignalWireDialect, AUTH_TOKEN, ACCOUNT_SID
    ),
    "telnyx": (CASES["telnyx"].env, TelnyxDialect, CASES["telnyx"].secret, ACCOUNT_SID),
    "plivo": (
        CASES["plivo"].env, PlivoDialect, CASES["plivo"].secret, "MAODUMODUMODUMODUMOD"
    ),
}  # fmt: skip


@pytest.mark.parametrize("carrier", list(CARRIERS))
async def test_kill_9_of_the_replica_holding_a_call_carries_it_on(
    tmp_path: Path, carrier: str
) -> None:
    env, dialect, secret, account = CARRIERS[carrier]
    async with running_cluster(tmp_path, env=env) as cluster:
        call_sid = str(uuid.uuid4()) if carrier == "plivo" else new_call_sid()
        options = SimOptions(auth_token=secret, account_sid=account, call_sid=call_sid)
        call = asyncio.create_task(
            place_call(cluster.proxy.url, _script(), options, dialect=dialect())
        )
        emulator = cluster.emulator

        store = aioredis.Redis.from_url(cluster.redis.url, decode_responses=True)
        sessions: list[SessionRecord] = []

        async def handle_stored() -> bool:
            """The owner stored the newest handle its Live session issued (written on change,
            not per frame); `sessions` names that session (not a discarded pre-warm)."""
            stored = await store.hget(f"gw:call:{options.call_sid}", "handle")
            for record in emulator.recorder.sessions:
                if record.handles and record.handles[-1][1] == stored:
                    sessions[:] = [record]
                    return True
            return False

        async def no_slot_held() -> bool:
            return await store.zcard("gw:slots") == 0

        await until(handle_stored)
        owner = await store.get(f"gw:owner:{options.call_sid}")
        assert owner is not None
        health = await cluster.health()
        holder = next(
            r for r, h in zip(cluster.replicas, health, strict=True) if h and h["active_calls"]
        )
        survivor = next(r for r in cluster.replicas if r is not holder)
        await asyncio.sleep(1.5)  # the caller is talking (its second utterance starts at 13 s)
        await until(handle_stored)  # the newest handle is stored: kill now
        session = sessions[0]
        newest = session.handles[-1][1]
        holder.process.send_signal(signal.SIGKILL)
        report = await asyncio.wait_for(call, 60)

        assert report.outcome is CallOutcome.COMPLETED, report.timeline
        assert len(report.earlier_legs) == 1
        assert report.earlier_legs[0].outcome is CallOutcome.GATEWAY_CLOSED
        assert len(report.reconnect_gaps_ms) == 1
        # The new Live connection resumed the newest handle the dead replica stored.
        resumes = [s.get("sessionResumption", {}).get("handle") for s in session.setups]
        assert resumes[-1] == newest
        # The caller audio lost is only what was in flight at the kill: Live got every frame of
        # the first stream but those, and every frame of the second (held while its session
        # resumed, then sent).
        received = session.audio_samples_by_connection  # 16 kHz samples by Live connection
        first, last = min(received), max(received)
        assert first != last
        first_leg_ms = len(report.earlier_legs[0].said) / 8
        assert first_leg_ms - IN_FLIGHT_MS <= received[first] / 16 <= first_leg_ms
        assert received[last] / 16 >= len(report.said) / 8 - IN_FLIGHT_MS
        # The agent greeted once, on the first stream only.
        greetings = [text for text in session.texts if "Greet" in text]
        assert len(greetings) == 1
        # The call went on through the survivor and the caller heard the agent there.
        assert report.media_frames_received > 0
        assert any("cluster.carrying_on" in line for line in survivor.stdout.splitlines())
        # No slot leaks: once the call ended the survivor gave its slot back, and the dead
        # replica's lease ended.
        await until(no_slot_held)
        assert await store.hget(f"gw:call:{options.call_sid}", "status") == "ended"
        await store.aclose()

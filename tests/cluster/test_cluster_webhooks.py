"""Cluster mode end to end, post-call webhooks: a call handed over by a draining replica and
carried on by the other yields one document, sent by the replica that ended the call, covering
both legs; the draining replica leaves nothing behind in Redis that would send a second one."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import datetime
from pathlib import Path

import redis.asyncio as aioredis

from gateway.shell.call_legs import call_delivery_id
from gateway.shell.call_webhooks import verify
from gateway.shell.cluster_outbox import CLAIMED, DOCS, DUE
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.script import SimOptions, new_call_sid
from tests.cluster.cluster_fixtures import running_cluster, until
from tests.cluster.test_rolling_deploy import _script
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN
from tests.e2e.process import json_lines
from tests.loopback import serve_app
from tests.webhook_receiver import Receiver

SECRET = "whsec-cluster-0123456789abcdef"


async def test_a_call_carried_on_after_a_handover_yields_one_document(tmp_path: Path) -> None:
    receiver = Receiver()
    async with serve_app(receiver.app()) as base:
        env = {
            "GATEWAY_DRAIN_TIMEOUT_S": "600",
            "GATEWAY_CALL_WEBHOOK_URL": f"{base}/hook",
            "GATEWAY_CALL_WEBHOOK_SECRET": SECRET,
        }
        async with running_cluster(tmp_path, env=env) as cluster:
            options = SimOptions(
                auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID, call_sid=new_call_sid()
            )
            placed_s = time.time()
            call = asyncio.create_task(place_call(cluster.proxy.url, _script(), options))
            store = aioredis.Redis.from_url(cluster.redis.url, decode_responses=True)
            try:

                async def handle_stored() -> bool:
                    return bool(await store.hget(f"gw:call:{options.call_sid}", "handle"))

                await until(handle_stored)
                health = await cluster.health()
                holder = next(
                    r
                    for r, h in zip(cluster.replicas, health, strict=True)
                    if h and h["active_calls"]
                )
                handed_s = time.time()
                holder.signal(signal.SIGTERM)
                status, stdout, _ = await holder.exited()
                assert status == 0
                lines = json_lines(stdout)
                ended = [line for line in lines if line["event"] == "call.ended"]
                assert [line["end_reason"] for line in ended] == ["handover"]
                assert not [line for line in lines if line["event"] == "webhook.shutdown"]

                report = await asyncio.wait_for(call, 90)
                assert report.outcome is CallOutcome.COMPLETED, report.timeline
                assert len(report.earlier_legs) == 1
                await until(lambda: _received(receiver))
                assert await store.hlen(DOCS) == 0  # no document of the first leg left to send
                assert await store.zcard(DUE) == await store.zcard(CLAIMED) == 0
            finally:
                await store.aclose()
    [request] = receiver.received
    body = request.body
    assert verify(SECRET, request.headers["gateway-signature"], body, time.time())
    document = json.loads(body)
    assert request.headers["gateway-delivery"] == call_delivery_id("twilio", options.call_sid)
    assert document["delivery_id"] == request.headers["gateway-delivery"]
    assert document["call_id"] == options.call_sid
    assert document["legs"] == 2
    started_s = datetime.fromisoformat(document["started_at"]).timestamp()
    assert placed_s - 1 <= started_s <= handed_s  # the first leg's start, not the second's
    assert document["outcome"] != "handover"
    earlier = [line for line in document["transcript"] if line.get("earlier_leg")]
    later = [line for line in document["transcript"] if not line.get("earlier_leg")]
    assert earlier, document["transcript"]
    assert later, document["transcript"]
    assert document["transcript"] == [*earlier, *later]


async def _received(receiver: Receiver) -> bool:
    return bool(receiver.received)

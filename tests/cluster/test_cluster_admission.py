"""Cluster mode end to end, admission and tokens: two real replicas, one real Redis.

A stream token redeemed on one replica is refused when replayed on the other; the cluster-wide
limit (GATEWAY_CLUSTER_MAX_CALLS) refuses a webhook on any replica once the cluster is full and
admits again once a call ended; Redis stopped mid-call: the call goes on, `/readyz` and the
metrics say so, new webhooks get the fallback, and when Redis returns calls are admitted again
and no slot leaks.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx
import redis.asyncio as aioredis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gateway.carriers import twiml
from gateway.carriers.refusal import FALLBACK_MESSAGE
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.script import CallScript, SimOptions, new_call_sid
from gateway.sim.twilio import TwilioDialect
from gateway.sim.twiml import parse_twiml
from tests.cluster.cluster_fixtures import running_cluster, until
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN
from tests.e2e.process import GatewayProcess

RECORDING = Path(__file__).resolve().parents[1] / "recordings" / "greeting_question.wav"


def _options() -> SimOptions:
    return SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID, call_sid=new_call_sid())


def _script(tail_ms: float = 3_000.0) -> CallScript:
    return dataclasses.replace(load_recording(RECORDING).script, tail_ms=tail_ms)


async def _webhook(replica: GatewayProcess, options: SimOptions) -> str:
    """The replica's TwiML answer to a signed voice webhook."""
    request = TwilioDialect().webhook(replica.base_url, options)
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            request.url, data=dict(request.form), headers=list(request.headers)
        )
    assert answer.status_code == 200
    return answer.text


async def _open_stream(replica: GatewayProcess, twiml: str, options: SimOptions) -> int | None:
    """Open the answer's stream on `replica` (whatever host the TwiML names), send `connected`
    and `start` with its parameters; the close code when the gateway closes it within 5 s,
    None while it stays open (the stream is then closed by us)."""
    answer = parse_twiml(twiml)
    assert answer.stream_url is not None
    path = answer.stream_url.split("/", 3)[3]
    url = replica.base_url.replace("http://", "ws://") + "/" + path
    dialect = TwilioDialect()
    headers = dialect.upgrade_headers(url, options)
    async with connect(url, additional_headers=headers) as ws:
        for message in dialect.new_stream(options).opening(answer.parameters):
            await ws.send(message)
        try:
            async with asyncio.timeout(5):
                while True:
                    await ws.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
        except TimeoutError:
            return None


async def test_a_token_redeemed_on_one_replica_is_refused_on_the_other(tmp_path: Path) -> None:
    async with running_cluster(tmp_path) as cluster:
        a, b = cluster.replicas
        options = _options()
        twiml = await _webhook(a, options)
        first, replay = await asyncio.gather(
            _open_stream(a, twiml, options), _replay_later(b, twiml, options)
        )
        assert first is None  # the call ran on a (we hung up after 5 s)
        assert replay == 1008
        assert '"reason": "token reused"' in b.stdout or "token reused" in b.stdout


async def _replay_later(replica: GatewayProcess, twiml: str, options: SimOptions) -> int | None:
    await asyncio.sleep(1.0)  # after the first stream redeemed it
    return await _open_stream(replica, twiml, options)


async def test_the_cluster_limit_refuses_on_every_replica_then_admits_again(
    tmp_path: Path,
) -> None:
    env = {"GATEWAY_CLUSTER_MAX_CALLS": "1"}
    async with running_cluster(tmp_path, env=env) as cluster:
        a, b = cluster.replicas
        first = _options()
        call = asyncio.create_task(place_call(a.base_url, _script(), first))
        await until(lambda: _active(a))
        refused = await _webhook(b, _options())
        assert refused == twiml.fallback(FALLBACK_MESSAGE, None)
        assert 'gateway_webhooks_refused_total{reason="cluster_at_capacity"} 1.0' in (
            await _metrics(b)
        )
        report = await call
        assert report.outcome is CallOutcome.COMPLETED
        store = aioredis.Redis.from_url(cluster.redis.url, decode_responses=True)
        try:
            await until(lambda: _no_slot(store))
            assert "<Connect" in await _webhook(b, _options())  # admitted again
        finally:
            await store.aclose()


async def test_redis_stopped_mid_call_then_restarted(tmp_path: Path) -> None:
    async with running_cluster(tmp_path) as cluster:
        a, b = cluster.replicas
        options = _options()
        call = asyncio.create_task(place_call(a.base_url, _script(6_000.0), options))
        store = aioredis.Redis.from_url(cluster.redis.url, decode_responses=True)
        try:
            await until(lambda: _state_kept(store, options.call_sid))  # the call runs
        finally:
            await store.aclose()
        cluster.redis.stop()
        await until(lambda: _ready_status(a, "cluster unavailable"))
        assert await _webhook(b, _options()) == twiml.fallback(FALLBACK_MESSAGE, None)
        assert 'gateway_webhooks_refused_total{reason="cluster_unavailable"} 1.0' in (
            await _metrics(b)
        )
        assert "gateway_cluster_redis_up 0.0" in await _metrics(a)
        report = await call
        assert report.outcome is CallOutcome.COMPLETED  # the call in progress went on
        assert report.media_frames_received > 0
        cluster.redis.start()  # empty, as a Redis that lost its data
        await until(lambda: _ready_status(a, "ready"))
        await until(lambda: _ready_status(b, "ready"))
        second = await place_call(b.base_url, _script(), _options())
        assert second.outcome is CallOutcome.COMPLETED
        store = aioredis.Redis.from_url(cluster.redis.url, decode_responses=True)
        try:
            await until(lambda: _no_slot(store))
        finally:
            await store.aclose()


async def _active(replica: GatewayProcess) -> bool:
    async with httpx.AsyncClient() as client:
        body = (await client.get(f"{replica.base_url}/healthz")).json()
    return bool(body["active_calls"])


async def _ready_status(replica: GatewayProcess, status: str) -> bool:
    async with httpx.AsyncClient() as client:
        body = (await client.get(f"{replica.base_url}/readyz")).json()
    return bool(body["status"] == status)


async def _metrics(replica: GatewayProcess) -> str:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{replica.base_url}/metrics")).text


async def _state_kept(store: aioredis.Redis, call_sid: str) -> bool:
    return bool(await store.exists(f"gw:call:{call_sid}"))


async def _no_slot(store: aioredis.Redis) -> bool:
    return await store.zcard("gw:slots") == 0

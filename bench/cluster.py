"""Cluster mode: the gap a caller hears when the replica holding the call dies, and how long a
replica holding many calls takes to drain.

Starts a real `redis-server` (Debian's package) on a free port, the Live emulator, two real
`gateway serve` replicas in cluster mode and the round-robin proxy of the tests (readiness
polled every 200 ms), then:

* `--kills N` times: places a call through the proxy (the recorded caller, a pause, the caller
  again), waits until its owner stored its newest Live handle, `kill -9`s the replica holding it
  while the caller talks, and starts a new replica in its place. The simulator follows Twilio's
  `<Connect action>` rule; the gap is the simulator's `reconnect_gaps_ms`: from the dropped
  stream's close to the new stream's start (the action request, the new replica's stream
  accept), the silence the caller hears before audio flows again.
* a drain: `--drain-calls` calls pinned to one replica (the proxy gives the other no new
  connection while they are placed), then SIGTERM to it: the time from the signal to the
  process' exit, every call handed over at a turn boundary (or forced near the drain timeout)
  and carried on by the other replica.

    PYTHONPATH=$PWD python bench/cluster.py                # 20 kills, 20 calls drained
    PYTHONPATH=$PWD python bench/cluster.py --kills 5 --drain-calls 5

Medians and worst cases from one run on this machine; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

import numpy as np
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' helpers

from gateway.emulator import LiveEmulator
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.report import CallReport
from gateway.sim.script import CallScript, SimOptions, new_call_sid
from tests.cluster.cluster_fixtures import ENV
from tests.cluster.proxy import RoundRobinProxy
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN
from tests.e2e.process import GatewayProcess, gateway_process
from tests.redis_server import RedisServer

RECORDING = Path(__file__).resolve().parents[1] / "tests" / "recordings" / "greeting_question.wav"


def _script(pause_s: float, tail_s: float) -> CallScript:
    first = load_recording(RECORDING).script
    gap = np.zeros(round(pause_s * 8000), dtype=np.int16)
    audio = np.concatenate([first.audio, gap, first.audio])
    return dataclasses.replace(first, audio=audio, utterances=(), tail_ms=tail_s * 1000)


def _options() -> SimOptions:
    return SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID, call_sid=new_call_sid())


def _backend(replica: GatewayProcess) -> tuple[str, int]:
    return "127.0.0.1", int(replica.base_url.rsplit(":", 1)[1])


async def _until(condition: object, timeout_s: float = 30.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not await condition():  # type: ignore[operator]  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def _holder(replicas: list[GatewayProcess]) -> GatewayProcess:
    import httpx

    async with httpx.AsyncClient(timeout=1.0) as client:
        while True:
            for replica in replicas:
                try:
                    body = (await client.get(f"{replica.base_url}/healthz")).json()
                except httpx.HTTPError:
                    continue
                if body["active_calls"]:
                    return replica
            await asyncio.sleep(0.02)


async def _kills(
    count: int, stack: AsyncExitStack, env: dict[str, str], tmp: Path, emulator: LiveEmulator,
    replicas: list[GatewayProcess], proxy: RoundRobinProxy, store: aioredis.Redis,
) -> list[float]:  # fmt: skip
    gaps: list[float] = []
    for index in range(count):
        options = _options()
        call = asyncio.create_task(place_call(proxy.url, _script(6.0, 3.0), options))
        sessions_before = len(emulator.recorder.sessions)

        async def handle_stored(
            sessions_before: int = sessions_before, call_sid: str = options.call_sid
        ) -> bool:
            if len(emulator.recorder.sessions) <= sessions_before:
                return False
            handles = emulator.recorder.sessions[-1].handles
            stored = await store.hget(f"gw:call:{call_sid}", "handle")
            return bool(handles) and stored == handles[-1][1]

        await _until(handle_stored)
        holder = await _holder(replicas)
        await asyncio.sleep(2.0)  # into the caller's second utterance (it starts at 13 s)
        holder.process.send_signal(signal.SIGKILL)
        report: CallReport = await asyncio.wait_for(call, 90)
        carried = report.outcome is CallOutcome.COMPLETED and len(report.earlier_legs) == 1
        gaps += list(report.reconnect_gaps_ms)
        print(
            f"  kill {index + 1:2d}: {'carried on' if carried else report.outcome}, gap "
            + ", ".join(f"{gap:.0f} ms" for gap in report.reconnect_gaps_ms)
        )
        await holder.kill()
        folder = tmp / f"replica-k{index}"
        folder.mkdir()
        fresh = await stack.enter_async_context(gateway_process(env, folder))
        proxy.replace(_backend(holder), _backend(fresh))
        replicas[replicas.index(holder)] = fresh
    return gaps


async def _drain(
    calls: int, replicas: list[GatewayProcess], proxy: RoundRobinProxy
) -> tuple[float, list[CallReport]]:
    import httpx

    target, other = replicas
    proxy.paused.add(_backend(other))
    tasks = [
        asyncio.create_task(place_call(proxy.url, _script(10.0, 6.0), _options()))
        for _ in range(calls)
    ]

    async def all_running() -> bool:
        async with httpx.AsyncClient(timeout=1.0) as client:
            body = (await client.get(f"{target.base_url}/healthz")).json()
        return bool(body["active_calls"] >= calls)

    await _until(all_running, 60)
    await asyncio.sleep(3.0)  # the greetings are under way
    proxy.paused.clear()
    started = time.perf_counter()
    target.signal(signal.SIGTERM)
    await target.exited()
    drained_s = time.perf_counter() - started
    reports = await asyncio.gather(*tasks)
    return drained_s, list(reports)


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    redis = RedisServer(tmp)
    redis.start()
    try:
        async with AsyncExitStack() as stack:
            emulator = await stack.enter_async_context(LiveEmulator())
            env = {
                **ENV,
                "GATEWAY_LIVE_URL": emulator.plain_url,
                "GATEWAY_REDIS_URL": redis.url,
                "GATEWAY_DRAIN_TIMEOUT_S": str(args.drain_timeout_s),
                "LOG_LEVEL": "WARNING",
            }
            replicas = []
            for index in range(2):
                folder = tmp / f"replica{index}"
                folder.mkdir()
                replicas.append(await stack.enter_async_context(gateway_process(env, folder)))
            proxy = await stack.enter_async_context(
                RoundRobinProxy([_backend(r) for r in replicas])
            )
            store = aioredis.Redis.from_url(redis.url, decode_responses=True)
            print(f"cluster bench on {platform.platform()}, {os.cpu_count()} CPUs")
            if args.kills:
                print(f"kill -9 of the replica holding a call, {args.kills} times:")
                gaps = await _kills(args.kills, stack, env, tmp, emulator, replicas, proxy, store)
                if gaps:
                    print(
                        f"gap the caller hears: p50 {statistics.median(gaps):.0f} ms, "
                        f"worst {max(gaps):.0f} ms over {len(gaps)} kills"
                    )
            if args.drain_calls:
                drained_s, reports = await _drain(args.drain_calls, replicas, proxy)
                carried = sum(
                    r.outcome is CallOutcome.COMPLETED and len(r.earlier_legs) == 1 for r in reports
                )
                gaps = [gap for r in reports for gap in r.reconnect_gaps_ms]
                print(
                    f"drain of a replica holding {args.drain_calls} calls: {drained_s:.1f} s from "
                    f"SIGTERM to exit (drain timeout {args.drain_timeout_s} s); {carried} calls "
                    f"carried on by the other replica"
                    + (
                        f", gap p50 {statistics.median(gaps):.0f} ms, worst {max(gaps):.0f} ms"
                        if gaps
                        else ""
                    )
                )
            await store.aclose()
    finally:
        redis.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--drain-calls", type=int, default=20)
    parser.add_argument("--drain-timeout-s", type=float, default=30.0)
    asyncio.run(main(parser.parse_args()))

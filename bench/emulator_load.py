"""How many concurrent real-time sessions one emulator process carries.

Starts `gateway emulator` (tone mode) in its own process, then opens N sessions from this process
with our Live client. Every session streams 16 kHz audio in 20 ms frames paced by deadline
(1 s of tone, 3 s of silence, repeated) and reads the answers. For every answer chunk it measures
the *downlink lag*: how late the chunk arrived against the real-time schedule the emulator promises
(first chunk of the turn + audio already received - the 200 ms generation lead). Pacing holds when
the p99 lag stays small (we call it held at <= 50 ms) and every turn is answered.

    python bench/emulator_load.py                  # N = 50 100 200 400, 16 s each
    python bench/emulator_load.py --sessions 300 --seconds 20

Prints one line per N: turns answered, downlink lag p50/p99/max, uplink send lag p99 (this
process's own pacing), and the emulator's CPU use (share of one core).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from gateway.live.endpoints import custom_endpoint
from gateway.live.events import AudioChunk, Interrupted, TurnComplete
from gateway.live.setup import LiveConfig
from gateway.log import configure
from gateway.shell.live_client import ClientOptions, LiveClosedError, connect

FRAME_S = 0.02
RATE_HZ = 16_000
LEAD_S = 0.2
CYCLE_S = 4  # 1 s of speech, 3 s of silence: the 1 s answer ends before the caller speaks again


def _frames() -> list[bytes]:
    t = np.arange(RATE_HZ) / RATE_HZ
    tone = (6000 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()
    cycle = tone + bytes(2 * RATE_HZ * (CYCLE_S - 1))
    step = int(2 * RATE_HZ * FRAME_S)
    return [cycle[i : i + step] for i in range(0, len(cycle), step)]


FRAMES = _frames()


@dataclass
class Stats:
    downlink_lag_s: list[float] = field(default_factory=list)
    uplink_lag_s: list[float] = field(default_factory=list)
    turns: int = 0
    interrupted: int = 0
    failures: int = 0


async def _session(url: str, seconds: float, stats: Stats, start: asyncio.Event) -> None:
    try:
        session = await connect(
            custom_endpoint(url), LiveConfig(), options=ClientOptions(setup_timeout_s=60)
        )
    except Exception:
        stats.failures += 1
        return
    await start.wait()

    async def send() -> None:
        loop = asyncio.get_running_loop()
        begin = loop.time()
        index = 0
        while index * FRAME_S < seconds:
            due = begin + index * FRAME_S
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                stats.uplink_lag_s.append(-delay)
            await session.send_audio(FRAMES[index % len(FRAMES)])
            index += 1

    async def receive() -> None:
        first: float | None = None
        received_s = 0.0
        async for event in session:
            now = time.perf_counter()
            if isinstance(event, AudioChunk):
                if first is None:
                    first, received_s = now, 0.0
                expected = first + max(0.0, received_s - LEAD_S)
                stats.downlink_lag_s.append(max(0.0, now - expected))
                received_s += event.duration_ms / 1000
            elif isinstance(event, Interrupted):
                stats.interrupted += 1
            elif isinstance(event, TurnComplete):
                stats.turns += 1
                first = None

    receiver = asyncio.create_task(receive())
    try:
        await send()
        await asyncio.sleep(2.5)  # let the last answer finish
    except LiveClosedError:
        stats.failures += 1
    finally:
        await session.close()
        await receiver


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _run(sessions: int, seconds: float) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "emulator", "--port", "0", "--mode", "tone",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"},
    )  # fmt: skip
    assert process.stdout is not None
    try:
        url = await _ready_url(process.stdout)
        drain = asyncio.create_task(process.stdout.read())  # keep the log pipe flowing
        stats = Stats()
        start = asyncio.Event()
        tasks = [asyncio.create_task(_session(url, seconds, stats, start)) for _ in range(sessions)]
        await asyncio.sleep(0.5)
        cpu_before, wall_before = _cpu_s(process.pid), time.perf_counter()
        own_before = time.process_time()
        start.set()
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - wall_before
        cpu = (_cpu_s(process.pid) - cpu_before) / wall
        own_cpu = (time.process_time() - own_before) / wall
    finally:
        process.terminate()
        await process.wait()
    await drain
    lag = np.array(stats.downlink_lag_s or [0.0]) * 1000
    up = np.array(stats.uplink_lag_s or [0.0]) * 1000
    expected_turns = sessions * int(seconds // CYCLE_S)
    complete = stats.turns >= expected_turns and not stats.interrupted and not stats.failures
    held = np.percentile(lag, 99) <= 50 and complete
    return (
        f"{sessions:>5} sessions: turns {stats.turns}/{expected_turns} "
        f"({stats.interrupted} interrupted), failures {stats.failures}, "
        f"downlink lag p50 {np.percentile(lag, 50):.1f} ms p99 {np.percentile(lag, 99):.1f} ms "
        f"max {lag.max():.1f} ms, uplink lag p99 {np.percentile(up, 99):.1f} ms, "
        f"emulator CPU {100 * cpu:.0f}% of a core ({100 * cpu / sessions:.2f}% per session), "
        f"clients' CPU {100 * own_cpu:.0f}% -> pacing {'held' if held else 'NOT held'}"
    )


async def _ready_url(stdout: asyncio.StreamReader) -> str:
    async with asyncio.timeout(60):
        while True:
            line = await stdout.readline()
            if not line:
                raise RuntimeError("the emulator exited before it was ready")
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") == "emulator.ready":
                return str(record["plain_url"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="*", default=[50, 100, 200, 400])
    parser.add_argument("--seconds", type=float, default=16.0)
    args = parser.parse_args()
    configure("WARNING", "console")
    print(f"emulator load: {args.seconds:.0f} s of real-time audio per session, a turn per 4 s")
    for count in args.sessions:
        print(asyncio.run(_run(count, args.seconds)), flush=True)


if __name__ == "__main__":
    main()

"""Soak: minutes of call churn through a real `gateway serve`, watching for anything that grows.

A real gateway (signed Twilio webhooks, JSON logs) and a Live emulator (`--mode echo`) run as
child processes; this script is the carrier: `--lanes` callers, each placing calls back to back
(recorded speech, 4-20 s each, real time) until `--duration-s` is over. Every `--abandon-every`th
call is abandoned mid-call (the caller's task is cancelled: the media socket goes away without a
`stop`), the way a dropped mobile leg ends.

Every `--sample-s` seconds it reads, from outside the gateway:

* RSS and open file descriptors of the gateway process (/proc/<pid>/status, /proc/<pid>/fd);
* asyncio tasks alive in the gateway (`gateway_event_loop_tasks` on /metrics);
* Live sessions open per the gateway (`gateway_live_sessions`) and per the Live side: established
  TCP connections on the emulator's listening port (/proc/net/tcp{,6}, the server's end of each);
* calls active per the gateway (`gateway_active_calls`).

After the churn it lets everything end, waits `--settle-s`, and samples once more: with nothing
leaking, tasks and fds return to their idle values, both Live counts are 0, and RSS after the
warm-up (the first third of the run) stays flat. It prints one line per sample and a verdict.
Nothing is asserted; it exits 1 when a count did not return to idle, so a CI job could run it.

    python bench/soak.py                         # 300 s, 12 lanes
    python bench/soak.py --duration-s 600 --lanes 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import calls
import httpx
from prometheus_client.parser import text_string_to_metric_families

from gateway.sim.call import place_call
from gateway.sim.script import SimOptions

MIN_CALL_S = 4.0
MAX_CALL_S = 20.0


@dataclass(frozen=True)
class Sample:
    at_s: float
    rss_mib: float
    fds: int
    tasks: float
    live_gauge: float
    live_side: int
    active_calls: float


@dataclass
class Churn:
    placed: int = 0
    completed: int = 0
    abandoned: int = 0
    failed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def established_on_port(port: int) -> int:
    """Established TCP connections whose local port is `port` (the server's ends)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state = fields[1], fields[3]
                if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                    count += 1
    return count


def gauges(text: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.labels:
                values[sample.name] = sample.value
    return values


async def sample(
    client: httpx.AsyncClient, base_url: str, pid: int, live_port: int, t0: float
) -> Sample:
    metrics = gauges((await client.get(f"{base_url}/metrics")).text)
    return Sample(
        at_s=time.monotonic() - t0,
        rss_mib=rss_mib(pid),
        fds=open_fds(pid),
        tasks=metrics.get("gateway_event_loop_tasks", float("nan")),
        live_gauge=metrics.get("gateway_live_sessions", float("nan")),
        live_side=established_on_port(live_port),
        active_calls=metrics.get("gateway_active_calls", float("nan")),
    )


def line(s: Sample, label: str = "") -> str:
    return (
        f"{label or f'{s.at_s:6.0f} s'}  RSS {s.rss_mib:7.1f} MiB  fds {s.fds:4d}  "
        f"tasks {s.tasks:5.0f}  Live open: gauge {s.live_gauge:3.0f}, Live side {s.live_side:3d}  "
        f"active calls {s.active_calls:3.0f}"
    )


async def lane(
    k: int, args: argparse.Namespace, base_url: str, token: str, deadline: float, churn: Churn
) -> None:
    pieces, _ = calls.load_pieces(args.recordings)
    rng = random.Random(k)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        duration_ms = rng.uniform(MIN_CALL_S, MAX_CALL_S) * 1000
        script = calls.compose(pieces, k * 1000 + n, duration_ms, barge=rng.random() < 0.3)
        churn.placed += 1
        placing = asyncio.create_task(
            place_call(base_url, script, SimOptions(auth_token=token, speed=1.0))
        )
        if (k * 7919 + n) % args.abandon_every == 0:
            await asyncio.sleep(rng.uniform(1.0, duration_ms / 1000))
            placing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await placing
            churn.abandoned += 1
            continue
        try:
            report = await placing
        except Exception:
            churn.failed += 1
            continue
        outcome = str(report.outcome)
        churn.outcomes[outcome] = churn.outcomes.get(outcome, 0) + 1
        churn.completed += 1


async def run(args: argparse.Namespace) -> int:
    env = calls._clean_env()
    token = secrets.token_hex(16)
    children: list[calls.Child] = []
    try:
        live_urls: list[str] = []

        def on_emulator(record: dict[str, object]) -> None:
            if record.get("event") == "emulator.ready":
                live_urls.append(str(record["plain_url"]))

        argv = [sys.executable, "-m", "gateway", "emulator", "--host", "127.0.0.1", "--port", "0"]
        emulator = await calls.spawn("emulator", [*argv, "--mode", "echo"], env, on_emulator)
        children.append(emulator)
        await calls.until(lambda: bool(live_urls), 60, "it was ready", [emulator])
        live_port = int(live_urls[0].split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])

        ended: list[dict[str, object]] = []
        problems: dict[str, int] = {}

        def on_gateway(record: dict[str, object]) -> None:
            if record.get("event") == "call.ended":
                ended.append(record)
            if str(record.get("level", "")) in {"error", "critical"}:
                key = str(record.get("event"))
                problems[key] = problems.get(key, 0) + 1

        port = calls.free_port()
        gateway_env = {
            **env,
            "GATEWAY_LIVE_URL": live_urls[0],
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(port),
            "GATEWAY_SECRET": secrets.token_hex(16),
            "TWILIO_AUTH_TOKEN": token,
            "GATEWAY_MAX_CALLS": str(4 * args.lanes),
        }
        gateway_argv = [sys.executable, "-m", "gateway", "serve", "--env-file", os.devnull]
        gateway = await calls.spawn("gateway", gateway_argv, gateway_env, on_gateway)
        children.append(gateway)
        base_url = f"http://127.0.0.1:{port}"
        await calls.wait_healthy(base_url, gateway)

        churn = Churn()
        samples: list[Sample] = []
        t0 = time.monotonic()
        deadline = t0 + args.duration_s
        async with httpx.AsyncClient(timeout=10.0) as client:
            idle_before = await sample(client, base_url, gateway.pid, live_port, t0)
            print(line(idle_before, "idle before"), flush=True)
            lanes = [
                asyncio.create_task(lane(k, args, base_url, token, deadline, churn))
                for k in range(args.lanes)
            ]
            while not all(task.done() for task in lanes):
                await asyncio.sleep(args.sample_s)
                samples.append(await sample(client, base_url, gateway.pid, live_port, t0))
                print(line(samples[-1]), flush=True)
            await asyncio.gather(*lanes)
            await asyncio.sleep(args.settle_s)
            idle_after = await sample(client, base_url, gateway.pid, live_port, t0)
            print(line(idle_after, "idle after "), flush=True)

        warm = [s for s in samples if s.at_s >= args.duration_s / 3] or samples
        rss_growth = warm[-1].rss_mib - warm[0].rss_mib if warm else float("nan")
        print()
        print(
            f"calls placed {churn.placed}: completed {churn.completed}, abandoned mid-call "
            f"{churn.abandoned}, failed {churn.failed}; outcomes {churn.outcomes}; "
            f"call.ended lines {len(ended)}"
        )
        print(
            f"RSS after warm-up: {warm[0].rss_mib:.1f} -> {warm[-1].rss_mib:.1f} MiB "
            f"({rss_growth:+.1f} MiB over {warm[-1].at_s - warm[0].at_s:.0f} s); "
            f"peak {calls.peak_rss_mib(gateway.pid):.1f} MiB"
        )
        print(f"error/critical log lines: {problems or 'none'}")
        leaks = []
        if idle_after.fds > idle_before.fds:
            leaks.append(f"fds {idle_before.fds} -> {idle_after.fds}")
        if idle_after.tasks > idle_before.tasks:
            leaks.append(f"tasks {idle_before.tasks:.0f} -> {idle_after.tasks:.0f}")
        if idle_after.live_gauge != 0 or idle_after.live_side != 0:
            leaks.append(
                f"Live sessions open at idle: gauge {idle_after.live_gauge:.0f}, "
                f"Live side {idle_after.live_side}"
            )
        print("verdict: " + ("; ".join(leaks) if leaks else "nothing grew: back to idle"))
        return 1 if leaks else 0
    finally:
        for prefix in ("gateway", "emulator"):
            await asyncio.gather(*(c.stop() for c in children if c.name.startswith(prefix)))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--duration-s", type=float, default=300.0)
    parser.add_argument("--lanes", type=int, default=12, help="concurrent callers")
    parser.add_argument("--abandon-every", type=int, default=4, help="every Nth call abandoned")
    parser.add_argument("--sample-s", type=float, default=15.0)
    parser.add_argument("--settle-s", type=float, default=5.0)
    parser.add_argument("--recordings", type=Path, default=calls.RECORDINGS)
    args = parser.parse_args()

    async def guarded() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        return await run(args)

    with contextlib.suppress(asyncio.CancelledError):
        sys.exit(asyncio.run(guarded()))


if __name__ == "__main__":
    main()

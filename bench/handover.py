"""Handover gaps: how long a call is without a Live session when its session is replaced.

Runs concurrent real-time simulated Twilio calls through the gateway app (uvicorn on loopback,
in this process) against the Live emulator with the session limits scaled down, so that every
call goes through many handovers of each kind:

* `go_away`: the emulator sends `goAway` 6 s into each connection with 5 s left (`--lifetime-s`,
  `--lead-s`); the gateway hands over at the next turn boundary, or forced before the deadline
  (a session replaced within 5 s of the handover that opened it would count as a continuing
  outage and back off: docs/sessions.md);
* `close 1011`: the emulator closes a connection with 1011 (`--abrupt-every-s`);
* `close 1006`: it resets the TCP connection without a close frame.

The gap of a handover is the gateway's own figure (`call.ended` -> `handovers[].gap_ms`): from
its decision to replace the session (or from the close it noticed) to the new session being
ready, including closing the old socket, the WebSocket and TLS-less handshake and the `setup`
round trip to the emulator on loopback. Caller audio in the gap is held and replayed, so the gap
is added latency for those frames, not lost audio: the table also shows what was dropped.

    python bench/handover.py                  # 8 calls of 40 s
    python bench/handover.py --calls 20 --duration-s 60

Medians and worst cases from one run on this machine; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn

from gateway.emulator import EmulatorConfig, LiveEmulator, Scenario
from gateway.emulator.scenario import TimedAction
from gateway.log import configure
from gateway.settings import load_settings
from gateway.shell.app import build_app
from gateway.shell.connector import LiveConnector
from gateway.shell.runtime import CallRecord, GatewayRuntime
from gateway.shell.serve import uvicorn_config
from gateway.sim.call import place_call
from gateway.sim.recording import load_recording
from gateway.sim.script import CallScript, SimOptions

RECORDINGS = Path(__file__).resolve().parents[1] / "tests" / "recordings"
AUTH_TOKEN = "bench-auth-token-0123456789"
ACCOUNT_SID = "AC" + "7" * 32


def _script(duration_s: float) -> CallScript:
    """Recordings back to back until `duration_s` (the caller talks, listens, pauses)."""
    parts: list[np.ndarray[Any, np.dtype[np.int16]]] = []
    total = 0
    names = ["greeting_question", "long_silences", "dtmf_menu", "noisy_line"]
    while total < duration_s * 8000:
        for name in names:
            audio = load_recording(RECORDINGS / f"{name}.wav").script.audio
            parts.append(audio)
            total += len(audio)
    return CallScript(np.concatenate(parts)[: int(duration_s * 8000)], tail_ms=1000)


def _abrupt_actions(duration_s: float, every_s: float) -> tuple[TimedAction, ...]:
    """`every_s` into each connection: a 1011 close on odd ones, a TCP reset on even ones."""
    if every_s <= 0:
        return ()
    count = int(duration_s / every_s) + 2
    return tuple(
        TimedAction(at_s=every_s, action="close", connection=n, code=1011)
        if n % 2
        else TimedAction(at_s=every_s, action="drop", connection=n)
        for n in range(1, count + 1)
    )


async def _serve_gateway(emulator: LiveEmulator) -> tuple[uvicorn.Server, str, GatewayRuntime]:
    settings = load_settings(
        {
            "GATEWAY_LIVE_URL": emulator.plain_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "GATEWAY_SECRET": "bench-secret-0123456789abcdef",
        },
        env_file=None,
    )
    app = build_app(settings, LiveConnector.from_settings(settings))
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", 0))
    asyncio.get_running_loop().create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}", app.state.gateway


async def _run(kind: str, args: argparse.Namespace) -> list[CallRecord]:
    if kind == "go_away":
        config = EmulatorConfig(connection_lifetime_s=args.lifetime_s, go_away_lead_s=args.lead_s)
        scenario = Scenario()
    else:
        config = EmulatorConfig()
        scenario = Scenario(actions=_abrupt_actions(args.duration_s, args.abrupt_every_s))
    records: list[CallRecord] = []
    async with LiveEmulator(config, scenario) as emulator:
        server, base_url, runtime = await _serve_gateway(emulator)
        runtime.observers.append(records.append)
        script = _script(args.duration_s)
        try:
            await asyncio.gather(
                *(
                    place_call(
                        base_url, script, SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
                    )
                    for _ in range(args.calls)
                )
            )
            while runtime.active_calls:  # noqa: ASYNC110 - a counter, not an event
                await asyncio.sleep(0.05)
        finally:
            server.should_exit = True
            await asyncio.sleep(0.5)
    return records


def _row(name: str, gaps: list[float], forced: int, attempts: list[int]) -> str:
    if not gaps:
        return f"| {name} | 0 | - | - | - | - | - |"
    ordered = sorted(gaps)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return (
        f"| {name} | {len(gaps)} | {forced} | {statistics.median(gaps):.1f} | {p90:.1f} | "
        f"{max(gaps):.1f} | {max(attempts)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=8)
    parser.add_argument("--duration-s", type=float, default=40.0)
    parser.add_argument("--lifetime-s", type=float, default=11.0)
    parser.add_argument("--lead-s", type=float, default=5.0)
    parser.add_argument("--abrupt-every-s", type=float, default=6.0)
    args = parser.parse_args()
    configure("ERROR", "json")  # the figures come from the call records, not the logs
    print(
        f"# handover gaps: {args.calls} concurrent calls of {args.duration_s:.0f} s per kind; "
        f"python {platform.python_version()}, {os.cpu_count()} cpus",
        file=sys.stderr,
    )
    by_reason: dict[str, list[float]] = defaultdict(list)
    forced: dict[str, int] = defaultdict(int)
    attempts: dict[str, list[int]] = defaultdict(list)
    outcomes: dict[str, int] = defaultdict(int)
    dropped_ms = 0.0
    calls = 0
    for kind in ("go_away", "abrupt"):
        for record in asyncio.run(_run(kind, args)):
            calls += 1
            dropped_ms += float(record.summary.get("reconnect_buffer_dropped_ms") or 0.0)
            for handover in record.summary.get("handovers", []):
                reason = handover["reason"]
                outcomes[handover["outcome"]] += 1
                if handover["gap_ms"] is None:
                    continue
                by_reason[reason].append(float(handover["gap_ms"]))
                forced[reason] += bool(handover["forced"])
                attempts[reason].append(int(handover["attempts"]))
    print("| handover | count | forced | gap p50 ms | gap p90 ms | worst ms | max attempts |")
    print("|---|---|---|---|---|---|---|")
    for reason in sorted(by_reason):
        print(_row(reason, by_reason[reason], forced[reason], attempts[reason]))
    every = [gap for gaps in by_reason.values() for gap in gaps]
    print(_row("all", every, sum(forced.values()), [a for x in attempts.values() for a in x]))
    print(
        f"\ncalls {calls}; outcomes {dict(outcomes)}; caller audio dropped in gaps "
        f"{dropped_ms:.0f} ms"
    )


if __name__ == "__main__":
    main()

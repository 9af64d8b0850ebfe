"""Ramp concurrent real-time calls through a real `gateway serve` until the latency bar breaks.

Built on bench/calls.py: every level is one `run_level` there (a fresh gateway, one emulator,
simulated callers in worker processes, CPU from /proc). The bar is design section 4's: the
gateway's added latency, carrier frame in -> Live frame out (uplink) and Live audio in -> carrier
frame out (downlink), p99 <= 5 ms. It is judged on every frame of every call of a level, from
the gateway's own `gateway_added_latency_seconds` histogram (`GET /metrics` once the calls have
ended), not on a median of per-call figures.

The ramp stops at the first level that breaks the bar, or earlier when the load generator can no
longer offer real-time load (then the figure is a floor, and the script says so). Each level is
classified:

* `gateway`: the gateway's one event-loop thread was busy >= 90 % of a core: the gateway is what
  limits;
* `other work`: processes outside the bench used >= 25 % of a core: the machine was not quiet,
  and the latency includes their interference;
* `generator`: the simulated callers fell behind real time (pacing lag p99 > 20 ms), or the
  emulator used >= 85 % of a core, or the machine was saturated while the gateway itself was
  not: the callers and emulator, sharing these cores, are the limit and the latency measured
  includes their interference;
* `headroom`: none of these.

It prints one line per level and then the sustained figure: the largest level within the bar,
the gateway's share of a core there, and the calls per core that implies (level / core share; and
60 / CPU s per call-minute, the same from the cost side).

    python bench/load.py                          # 25, 50, 75, 100, 150, 200, 250, 300 calls
    python bench/load.py --levels 50,100 --duration-s 30
    python bench/load.py --profiles heavy --tls on    # both parties talking, TLS Live leg

With several profiles or `--tls both`, one ramp runs per variant (bench/call_profiles.py), each
with its own conclusion.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import calls
from call_profiles import Variant, parse_profiles, parse_tls, variants
from prometheus_client.parser import text_string_to_metric_families

BAR_MS = 5.0
BAR_QUANTILE = 0.99
GATEWAY_BUSY = 0.90
EMULATOR_BUSY = 0.85
MACHINE_BUSY = 0.90
PACING_LAG_MS = 20.0
OTHER_WORK = 0.25
"""Cores' worth of CPU used by processes outside the bench above which a level is not clean."""
DIRECTIONS = ("uplink", "downlink")


@dataclass
class Verdict:
    calls: int
    variant: Variant
    within_bar: bool
    p99_ms: dict[str, str]
    """Per direction, the histogram bucket holding the p99 of all frames ('<= 0.5', '5-10')."""
    share_within_ms: dict[str, float]
    """Per direction, the share of frames within BAR_MS."""
    gateway_core: float
    emulator_core: float
    machine_busy: float
    lag_p99_ms: float
    waited: float
    limit: str
    cpu_s_per_call_minute: float
    failed_calls: int
    peak_rss_mib: float
    other_core: float
    """CPU used by processes that are not part of the bench (other users of the machine)."""
    interrupts_core: float
    """irq + softirq time (on loopback mostly the bench's own packets)."""


def histogram(metrics_text: str, name: str) -> dict[str, list[tuple[float, float]]]:
    """Cumulative buckets (upper bound s, count) per `direction` label."""
    out: dict[str, list[tuple[float, float]]] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name != name:
            continue
        for sample in family.samples:
            if sample.name == f"{name}_bucket":
                bound = math.inf if sample.labels["le"] == "+Inf" else float(sample.labels["le"])
                out.setdefault(sample.labels["direction"], []).append((bound, sample.value))
    return {k: sorted(v) for k, v in out.items()}


def quantile_bucket(buckets: list[tuple[float, float]], quantile: float) -> str:
    """The bucket (ms) holding `quantile` of the samples: '<= 0.5', '2-5', '> 1000'."""
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0:
        return "-"
    lower = 0.0
    for bound, count in buckets:
        if count >= quantile * total:
            if math.isinf(bound):
                return f"> {lower * 1000:g}"
            return f"<= {bound * 1000:g}" if lower == 0 else f"{lower * 1000:g}-{bound * 1000:g}"
        lower = bound
    return "-"


def share_within(buckets: list[tuple[float, float]], limit_s: float) -> float:
    total = buckets[-1][1] if buckets else 0.0
    within = max((count for bound, count in buckets if bound <= limit_s + 1e-12), default=0.0)
    return within / total if total else math.nan


def judge(level: calls.Level) -> Verdict:
    window = level.window_s
    gateway = level.cpu_s.get("gateway", math.nan) / window
    emulator = level.cpu_s.get("emulator", math.nan) / window
    cores = os.cpu_count() or 1
    busy = level.cpu_s.get("machine", math.nan) / window / cores
    lags = [float(p["p99"]) for p in level.pacing if p.get("p99") is not None]
    lag = max(lags) if lags else math.nan
    waited = level.gateway_waited_s / window
    buckets = histogram(level.metrics, "gateway_added_latency_seconds")
    p99 = {d: quantile_bucket(buckets.get(d, []), BAR_QUANTILE) for d in DIRECTIONS}
    within = {d: share_within(buckets.get(d, []), BAR_MS / 1000) for d in DIRECTIONS}
    failed = sum(1 for c in level.placed if not c.get("ok")) + max(
        0, level.calls - len(level.placed)
    )
    ok = failed == 0 and all(within[d] >= BAR_QUANTILE for d in DIRECTIONS)
    own = sum(
        level.cpu_s.get(k, 0.0) for k in ("gateway", "emulator", "callers", "bench", "interrupts")
    )
    other = max(0.0, level.cpu_s.get("machine", math.nan) - own) / window
    if gateway >= GATEWAY_BUSY:
        limit = "gateway"
    elif other >= OTHER_WORK:
        limit = "other work"
    elif lag > PACING_LAG_MS or emulator >= EMULATOR_BUSY or busy >= MACHINE_BUSY:
        limit = "generator"
    else:
        limit = "headroom"
    cost = level.cpu_s.get("gateway", math.nan) / level.call_minutes
    return Verdict(
        level.calls,
        level.variant,
        ok,
        p99,
        within,
        gateway,
        emulator,
        busy,
        lag,
        waited,
        limit,
        cost,
        failed,
        level.gateway_peak_rss_mib,
        other,
        level.cpu_s.get("interrupts", math.nan) / window,
    )


def describe(v: Verdict) -> str:
    latency = "; ".join(
        f"{d} p99 {v.p99_ms[d]} ms ({100 * v.share_within_ms[d]:.2f}% <= {BAR_MS:g} ms)"
        for d in DIRECTIONS
    )
    return (
        f"N={v.calls} {v.variant.label}: {'WITHIN' if v.within_bar else 'BREAKS'} the bar; "
        f"{latency}; "
        f"gateway {100 * v.gateway_core:.0f}% of a core (waited for a CPU "
        f"{100 * v.waited:.0f}%), emulator {100 * v.emulator_core:.0f}%, machine "
        f"{100 * v.machine_busy:.0f}% busy, caller pacing lag p99 {v.lag_p99_ms:.1f} ms, "
        f"{v.cpu_s_per_call_minute:.3f} gateway CPU s per call-minute, peak RSS "
        f"{v.peak_rss_mib:.0f} MiB, failed calls {v.failed_calls}, kernel interrupts "
        f"{100 * v.interrupts_core:.0f}%, other processes on the machine "
        f"{100 * v.other_core:.0f}% of a core; limited by: {v.limit}"
    )


def conclusion(verdicts: list[Verdict]) -> list[str]:
    passing = [v for v in verdicts if v.within_bar]
    lines: list[str] = []
    label = verdicts[0].variant.label if verdicts else ""
    if not passing:
        return [f"No level kept the gateway's added latency within the bar ({label})."]
    best = max(passing, key=lambda v: v.calls)
    per_core = best.calls / best.gateway_core if best.gateway_core > 0 else math.nan
    per_core_cost = 60 / best.cpu_s_per_call_minute if best.cpu_s_per_call_minute > 0 else math.nan
    lines.append(
        f"Sustained ({label}): {best.calls} concurrent real-time calls within p99 <= "
        f"{BAR_MS:g} ms (both directions, all frames), the gateway at "
        f"{100 * best.gateway_core:.0f}% of one core."
    )
    lines.append(
        f"Calls per core: {per_core:.0f} (calls / gateway core share at that level); "
        f"{per_core_cost:.0f} from the cost side (60 / {best.cpu_s_per_call_minute:.3f} CPU s "
        "per call-minute)."
    )
    broke = next((v for v in verdicts if not v.within_bar), None)
    last = verdicts[-1]
    if broke is not None:
        cause = {
            "gateway": "the gateway itself was saturated",
            "generator": "the load generator (callers and emulator on the same cores) was "
            "saturated, so the gateway's own limit is not reached here: the figure is a floor",
            "headroom": "no process was saturated: the latency broke under scheduling noise",
            "other work": "processes outside the bench took the CPU: run it on a quiet machine",
        }[broke.limit]
        lines.append(f"The bar broke at N={broke.calls}: {cause}.")
    elif last.limit == "generator":
        lines.append(
            f"The ramp stopped at N={last.calls} because the load generator could no longer offer "
            "real-time load on this machine; the gateway was still within the bar: a floor."
        )
    else:
        lines.append(f"The bar held up to the last level (N={last.calls}): raise --levels.")
    shared = [v for v in verdicts if v.other_core >= OTHER_WORK]
    if shared:
        worst = max(shared, key=lambda v: v.other_core)
        lines.append(
            f"Other processes used up to {100 * worst.other_core:.0f}% of a core during the run "
            f"(N={', '.join(str(v.calls) for v in shared)}): those levels competed with work "
            "outside the bench, so their latency reads high."
        )
    if best.limit == "generator":
        lines.append(
            f"At N={best.calls} the load generator was already the limit: the callers and the "
            "emulator share this machine's cores, so a gateway on its own cores does better."
        )
    return lines


def _levels(text: str) -> list[int]:
    values = sorted({int(part) for part in text.split(",") if part.strip()})
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("--levels takes positive integers")
    return values


async def _ramps(args: argparse.Namespace) -> list[list[Verdict]]:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    return [await _ramp(args, variant) for variant in variants(args.profiles, args.tls)]


async def _ramp(args: argparse.Namespace, variant: Variant) -> list[Verdict]:
    verdicts: list[Verdict] = []
    skip = len(calls.VARIANT_HEADER)
    for n in args.levels:
        for attempt in range(1 + args.retries):
            level = await calls.run_level(n, args, variant)
            verdict = judge(level)
            print(describe(verdict), flush=True)
            wire = zip(calls.TRAFFIC_HEADER[skip:], calls.traffic_row(level)[skip:], strict=True)
            print("  per call-second: " + "; ".join(f"{k} {v}" for k, v in wire), flush=True)
            for note in calls.problems(level):
                print(f"  {note}", flush=True)
            if verdict.within_bar or verdict.limit != "other work":
                break
            if attempt < args.retries:
                print(f"  other processes took the CPU: N={n} again", flush=True)
        verdicts.append(verdict)
        if not verdict.within_bar:
            break
        if verdict.limit == "generator" and verdict.lag_p99_ms > 10 * PACING_LAG_MS:
            break  # the callers are far behind real time: higher levels measure nothing
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--levels", type=_levels, default=_levels("25,50,75,100,150,200,250,300"), metavar="N,..."
    )
    parser.add_argument("--duration-s", type=float, default=20.0, help="length of every call")
    parser.add_argument(
        "--profiles",
        type=parse_profiles,
        default=parse_profiles("recorded"),
        metavar="NAME[,NAME]",
        help="call profiles: recorded (default) and/or heavy (both parties talk all the time)",
    )
    parser.add_argument(
        "--tls",
        type=parse_tls,
        default=parse_tls("off"),
        metavar="off|on|both",
        help="Live leg over TLS (the emulator's --tls, trusted via GATEWAY_LIVE_CA_FILE)",
    )
    parser.add_argument(
        "--syscall-sample-s",
        type=float,
        default=5.0,
        help="count the gateway's syscalls per leg with perf stat this long (0: not at all)",
    )
    parser.add_argument("--interrupt-share", type=float, default=0.25)
    parser.add_argument("--callers-per-worker", type=int, default=50)
    parser.add_argument("--recordings", type=Path, default=calls.RECORDINGS)
    parser.add_argument("--nice", type=int, default=10, help="niceness of emulator and callers")
    parser.add_argument(
        "--gateway-nice",
        type=int,
        default=0,
        help="niceness of the gateway; negative (root) puts it ahead of other work on a shared "
        "machine, as a pod with a core of its own would be",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help="run a level again (this many times at most) when it broke the bar while processes "
        "outside the bench were taking the CPU",
    )
    parser.add_argument("--gateway-env", action="append", type=calls.env_pair, metavar="NAME=VALUE")
    args = parser.parse_args()
    args.profile = None
    _, source = calls.load_pieces(args.recordings)
    for fact in calls.machine_facts():
        print(fact)
    print(
        f"bar: gateway added latency p99 <= {BAR_MS:g} ms per direction over all frames; "
        f"levels {args.levels}, calls of {args.duration_s:.0f} s; profiles "
        f"{', '.join(p.name for p in args.profiles)}, Live leg "
        f"{' and '.join('wss' if tls else 'ws' for tls in args.tls)}; gateway at nice "
        f"{args.gateway_nice}, emulator and callers at nice {args.nice}; caller audio: {source}",
        flush=True,
    )
    try:
        ramps = asyncio.run(_ramps(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: every child process was stopped", file=sys.stderr)
        sys.exit(130)
    for verdicts in ramps:
        print()
        for line in conclusion(verdicts):
            print(line)


if __name__ == "__main__":
    main()

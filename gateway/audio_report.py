"""`gateway audio-report`: measure our own audio paths and print the figures as a table.

It lives outside `gateway/audio` because it reads the clock (the cost column).

The quality columns are measured from streamed runs (see `measure`); the cost column is the
median wall time per 20 ms frame of the full path including the codec, on this machine, now.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import numpy as np

from gateway.audio.filters import Phase
from gateway.audio.measure import measure_quality
from gateway.audio.paths import CarrierFormat, DownlinkPath, UplinkPath
from gateway.audio.resample import Resampler

PAIRS = [(8000, 16000), (24000, 8000), (16000, 8000), (8000, 24000), (16000, 24000), (24000, 16000)]


def median_cost_us(step: Callable[[], object], repeats: int = 5000) -> tuple[float, float]:
    """(median, p99) wall time of `step` in microseconds."""
    for _ in range(200):
        step()
    times = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter_ns()
        step()
        times[i] = time.perf_counter_ns() - start
    return float(np.median(times) / 1000), float(np.percentile(times, 99) / 1000)


def path_costs_us(phase: Phase = "minimum") -> dict[str, tuple[float, float]]:
    """Cost per 20 ms of the Twilio-format uplink and downlink paths, codec included."""
    rng = np.random.default_rng(7)
    carrier = CarrierFormat()
    up = UplinkPath(carrier, phase=phase)
    down = DownlinkPath(carrier, phase=phase)
    ulaw = bytes(rng.integers(0, 256, 160, dtype=np.uint8))
    pcm24 = (rng.standard_normal(480) * 3000).astype("<i2").tobytes()
    return {
        "uplink mu-law 8k -> PCM 16k": median_cost_us(lambda: up.process(ulaw)),
        "downlink PCM 24k -> mu-law 8k": median_cost_us(lambda: down.process(pcm24)),
    }


def print_report(linear_phase: bool = False) -> None:
    """Measure every supported conversion and both Twilio paths; print the figures."""
    phase: Phase = "linear" if linear_phase else "minimum"
    print(f"Streaming polyphase resampler ({phase} phase), measured from 20 ms streamed chunks")
    header = f"{'conversion':>16} {'taps':>5} {'ripple dB':>10} {'alias/image dB':>15}"
    print(header + f" {'THD+N dB':>9} {'max delay ms':>13}")
    for in_hz, out_hz in PAIRS:
        q = measure_quality(functools.partial(Resampler, in_hz, out_hz, phase=phase), in_hz, out_hz)
        design = Resampler(in_hz, out_hz, phase=phase).design
        taps = len(design.taps) if design else 1
        name = f"{in_hz // 1000}k -> {out_hz // 1000}k"
        print(
            f"{name:>16} {taps:>5} {q.ripple_db:>10.3f} {q.worst_spurious_db:>15.1f}"
            f" {q.thd_n_db:>9.1f} {q.max_delay_ms:>13.2f}"
        )
    print("Bars: ripple <= 0.1 dB, alias/image <= -80 dB, THD+N <= -80 dB, delay <= 1.5 ms")
    print("Cost per 20 ms, codec included (median / p99 microseconds, one core):")
    for name, (median, p99) in path_costs_us(phase).items():
        print(f"  {name:<32} {median:6.1f} / {p99:6.1f}")

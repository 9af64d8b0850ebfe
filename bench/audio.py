"""Audio path benchmark: our resampler next to audioop.ratecv and soxr.ResampleStream.

Prints, from one run on this machine:
* cost per 20 ms frame per direction, codec included (median and p99, microseconds, one core),
  with ratios to ours;
* audio held back inside the resampler after a 20 ms frame (what a streaming library buffers);
* the quality table of the bars (ripple, alias/image, THD+N, delay), measured from streamed runs.

Run: `pip install -e '.[bench]' && python bench/audio.py`. Timings are medians of interleaved
rounds so that a noisy neighbour hurts every contender alike.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gateway.audio import g711
from gateway.audio.measure import SampleStream, measure_quality
from gateway.audio.paths import CarrierFormat, DownlinkPath, UplinkPath
from gateway.audio.resample import Resampler

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

Int16 = npt.NDArray[np.int16]


class RatecvStream:
    """audioop.ratecv with its state carried between chunks (what Twilio's samples use)."""

    def __init__(self, in_rate_hz: int, out_rate_hz: int) -> None:
        self.rates = (in_rate_hz, out_rate_hz)
        self.state: object = None

    def process(self, samples: Int16) -> Int16:
        out, self.state = audioop.ratecv(samples.tobytes(), 2, 1, *self.rates, self.state)
        return np.frombuffer(out, np.int16)

    def flush(self) -> Int16:
        return np.zeros(0, np.int16)


class SoxrStream:
    """soxr.ResampleStream at its high-quality setting."""

    def __init__(self, in_rate_hz: int, out_rate_hz: int, quality: str = "HQ") -> None:
        import soxr

        self.stream = soxr.ResampleStream(
            in_rate_hz, out_rate_hz, 1, dtype="int16", quality=quality
        )

    def process(self, samples: Int16) -> Int16:
        return np.asarray(self.stream.resample_chunk(samples), dtype=np.int16).reshape(-1)

    def flush(self) -> Int16:
        empty = np.zeros(0, np.int16)
        return np.asarray(self.stream.resample_chunk(empty, last=True), dtype=np.int16).reshape(-1)


@dataclass(frozen=True)
class Contender:
    name: str
    factory: Callable[[int, int], SampleStream]


CONTENDERS = [
    Contender("gateway (min phase)", lambda a, b: Resampler(a, b)),
    Contender("audioop.ratecv", RatecvStream),
    Contender("soxr HQ stream", SoxrStream),
]


def _uplink_step(factory: Callable[[int, int], SampleStream], name: str) -> Callable[[], object]:
    payload = bytes(np.random.default_rng(1).integers(0, 256, 160, dtype=np.uint8))
    if name.startswith("gateway"):
        path = UplinkPath(CarrierFormat())
        return lambda: path.process(payload)
    stream = factory(8000, 16000)
    return lambda: stream.process(g711.pcm16_samples(g711.ulaw_decode(payload))).tobytes()


def _downlink_step(factory: Callable[[int, int], SampleStream], name: str) -> Callable[[], object]:
    pcm = (np.random.default_rng(2).standard_normal(480) * 3000).astype("<i2").tobytes()
    if name.startswith("gateway"):
        path = DownlinkPath(CarrierFormat())
        return lambda: path.process(pcm)
    stream = factory(24000, 8000)
    held = bytearray()

    def step() -> list[bytes]:
        held.extend(g711.ulaw_encode(stream.process(g711.pcm16_samples(pcm)).tobytes()))
        frames = [bytes(held[i : i + 160]) for i in range(0, len(held) - 159, 160)]
        del held[: 160 * len(frames)]
        return frames

    return step


def interleaved_costs_us(
    steps: dict[str, Callable[[], object]], rounds: int = 60, per_round: int = 200
) -> dict[str, tuple[float, float]]:
    """(median, p99) microseconds per call of each step, measured in interleaved rounds."""
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():
        for _ in range(200):
            step()
    for _ in range(rounds):
        for name, step in steps.items():
            for _ in range(per_round):
                start = time.perf_counter_ns()
                step()
                samples[name].append((time.perf_counter_ns() - start) / 1000)
    return {n: (float(np.median(v)), float(np.percentile(v, 99))) for n, v in samples.items()}


def held_back_ms(factory: Callable[[int, int], SampleStream], in_hz: int, out_hz: int) -> float:
    """Output a stream still owes after one 20 ms frame (beyond what causality requires)."""
    stream = factory(in_hz, out_hz)
    frame = in_hz // 50
    produced = len(stream.process(np.zeros(frame, np.int16)))
    owed = frame * out_hz // in_hz - produced
    return 1000.0 * owed / out_hz


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the bar says
    print("Cost per 20 ms frame, codec included (median / p99 us; ratio = median / ours)")
    for direction, make in [
        ("uplink 8k mu-law -> 16k", _uplink_step),
        ("downlink 24k -> 8k mu-law", _downlink_step),
    ]:
        costs = interleaved_costs_us({c.name: make(c.factory, c.name) for c in CONTENDERS})
        ours = costs[CONTENDERS[0].name][0]
        print(f"  {direction}")
        for name, (median, p99) in costs.items():
            print(f"    {name:<22} {median:7.2f} / {p99:7.2f}   x{median / ours:5.2f}")
    print("\nHeld back inside the resampler after one 20 ms frame (ms)")
    for c in CONTENDERS:
        up, down = held_back_ms(c.factory, 8000, 16000), held_back_ms(c.factory, 24000, 8000)
        print(f"    {c.name:<22} uplink {up:6.2f}   downlink {down:6.2f}")
    print("\nQuality from streamed 20 ms chunks (bars: ripple <= 0.1 dB, alias/image <= -80 dB,")
    print("THD+N <= -80 dB, delay <= 1.5 ms)")
    columns = ("ripple", "alias/img", "THD+N", "delay")
    print(f"    {'contender':<22} {'conversion':<10} " + " ".join(f"{c:>9}" for c in columns))
    for c in CONTENDERS:
        for in_hz, out_hz in [(8000, 16000), (24000, 8000)]:
            q = measure_quality(lambda a=in_hz, b=out_hz, f=c.factory: f(a, b), in_hz, out_hz)
            name = f"{in_hz // 1000}k->{out_hz // 1000}k"
            print(
                f"    {c.name:<22} {name:<10} {q.ripple_db:9.3f} {q.worst_spurious_db:9.1f}"
                f" {q.thd_n_db:9.1f} {q.max_delay_ms:9.2f}"
            )


if __name__ == "__main__":
    main()

"""Streaming resampler: exactness, chunk independence, no drift, nothing held back, quality."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from gateway.audio.measure import measure_quality, run_stream
from gateway.audio.resample import Resampler

PAIRS = [(8000, 16000), (24000, 8000), (16000, 8000), (8000, 24000), (16000, 24000), (24000, 16000)]
RNG = np.random.default_rng(2024)
NOISE = RNG.integers(-32768, 32768, 6000).astype(np.int16)


def one_shot(in_hz: int, out_hz: int, x: np.ndarray) -> np.ndarray:
    r = Resampler(in_hz, out_hz)
    return np.concatenate([r.process(x), r.flush()])


@pytest.mark.parametrize("rates", PAIRS)
def test_equals_reference_polyphase_filter_bit_for_bit(rates: tuple[int, int]) -> None:
    r = Resampler(*rates)
    d = r.design
    assert d is not None
    y = np.concatenate([r.process(NOISE), r.flush()])
    reference = signal.upfirdn(d.taps, NOISE.astype(np.float64), d.up, d.down)
    reference = np.clip(np.rint(reference), -32768, 32767).astype(np.int16)
    assert len(y) == -(-(len(NOISE) + d.taps_per_phase - 1) * d.up // d.down)
    n = min(len(y), len(reference))
    assert np.array_equal(y[:n], reference[:n])
    assert not y[n:].any()  # past the reference's end only exact zeros of the ring-out remain


@settings(max_examples=60, deadline=None)
@given(
    rates=st.sampled_from(PAIRS),
    sizes=st.lists(st.integers(min_value=0, max_value=1500), min_size=1, max_size=40),
)
def test_any_chunking_gives_the_one_shot_output(rates: tuple[int, int], sizes: list[int]) -> None:
    x = NOISE[:4000]
    expected = one_shot(*rates, x)
    r = Resampler(*rates)
    out, pos, i = [], 0, 0
    while pos < len(x):
        size = sizes[i % len(sizes)]
        out.append(r.process(x[pos : pos + size]))
        pos += size
        i += 1
        if i > 10 * len(x):  # all-zero size lists: finish in one chunk
            out.append(r.process(x[pos:]))
            pos = len(x)
    out.append(r.flush())
    assert np.array_equal(np.concatenate(out), expected)


@pytest.mark.parametrize("rates", PAIRS)
def test_nothing_is_held_back(rates: tuple[int, int]) -> None:
    """After every chunk, every output whose last input has arrived has been emitted."""
    in_hz, out_hz = rates
    r = Resampler(in_hz, out_hz)
    d = r.design
    assert d is not None
    fed = emitted = 0
    for size in [1, 2, 3, 5, 7, 160, 161, 479, 480, 481, 1]:
        emitted += len(r.process(NOISE[fed : fed + size]))
        fed += size
        assert emitted == -(-fed * d.up // d.down)
        assert r.output_samples == emitted
        assert r.input_samples == fed


def test_downlink_gives_exactly_160_per_480_with_zero_drift() -> None:
    r = Resampler(24000, 8000)
    counts = {len(r.process(NOISE[:480])) for _ in range(3000)}  # one minute of 20 ms chunks
    assert counts == {160}
    assert r.input_samples == 3 * r.output_samples == 1_440_000


def test_odd_gemini_chunks_never_drift() -> None:
    r = Resampler(24000, 8000)
    total_in = total_out = 0
    for size in [1913, 2, 4001, 7, 1, 3333] * 50:
        total_out += len(r.process(NOISE[:size]))
        total_in += size
        assert total_out == -(-total_in // 3)


def test_upsampling_gives_exactly_twice() -> None:
    r = Resampler(8000, 16000)
    assert {len(r.process(NOISE[:160])) for _ in range(500)} == {320}


def test_reset_starts_a_fresh_stream() -> None:
    r = Resampler(24000, 8000)
    first = r.process(NOISE[:1000])
    r.process(NOISE[1000:3000])
    r.reset()
    assert np.array_equal(r.process(NOISE[:1000]), first)


def test_flush_returns_ring_out_then_resets() -> None:
    r = Resampler(8000, 16000)
    d = r.design
    assert d is not None
    r.process(NOISE[:100])
    tail = r.flush()
    assert len(tail) == (d.taps_per_phase - 1) * 2
    assert r.input_samples == 0
    assert r.output_samples == 0
    assert len(r.flush()) == 0


def test_same_rate_is_identity() -> None:
    r = Resampler(16000, 16000)
    assert r.design is None
    assert np.array_equal(run_stream(r, NOISE, [7, 320, 1000]), NOISE)


def test_rejects_non_int16_input() -> None:
    with pytest.raises(TypeError, match="int16"):
        Resampler(8000, 16000).process(np.zeros(10, dtype=np.float32))


def test_empty_chunks_are_harmless() -> None:
    r = Resampler(24000, 8000)
    assert len(r.process(np.zeros(0, np.int16))) == 0
    assert len(r.process_exact(np.zeros(0, np.int16))) == 0


def test_large_single_chunk_grows_the_buffer() -> None:
    x = np.tile(NOISE, 40)  # 240k samples, far beyond the initial buffer
    r = Resampler(24000, 8000)
    streamed = np.concatenate([r.process(x[:1000]), r.process(x[1000:]), r.flush()])
    assert np.array_equal(streamed, one_shot(24000, 8000, x))


def test_full_scale_overshoot_saturates_instead_of_wrapping() -> None:
    square = np.where(np.arange(24000) % 60 < 30, 32767, -32768).astype(np.int16)
    y = Resampler(24000, 8000).process(square)
    assert y.max() == 32767
    assert y.min() == -32768
    # a wrapped sample would jump by more than the largest legal step of a 400 Hz square
    assert np.abs(np.diff(y.astype(int))).max() < 40000


@pytest.mark.parametrize("rates", PAIRS)
def test_measured_quality_meets_the_bars(rates: tuple[int, int]) -> None:
    q = measure_quality(lambda: Resampler(*rates), *rates)
    assert q.ripple_db <= 0.1
    assert q.worst_spurious_db <= -80.0
    assert q.thd_n_db <= -80.0
    assert q.max_delay_ms <= 1.5


def test_linear_phase_option_meets_quality_but_delays_more() -> None:
    q = measure_quality(lambda: Resampler(24000, 8000, phase="linear"), 24000, 8000)
    assert q.ripple_db <= 0.1
    assert q.worst_spurious_db <= -80.0
    assert q.thd_n_db <= -80.0
    assert q.max_delay_ms > 3.0

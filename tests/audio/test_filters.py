"""Filter design: ratios, specifications met with margin, exactness grid, phase options."""

from __future__ import annotations

import numpy as np
import pytest

from gateway.audio import filters
from gateway.audio.filters import design_lowpass, reduce_ratio

PAIRS = [(8000, 16000), (24000, 8000), (16000, 8000), (8000, 24000), (16000, 24000), (24000, 16000)]


@pytest.mark.parametrize(
    ("rates", "factors"),
    [
        ((8000, 16000), (2, 1)),
        ((24000, 8000), (1, 3)),
        ((16000, 24000), (3, 2)),
        ((8000, 8000), (1, 1)),
    ],
)
def test_reduce_ratio(rates: tuple[int, int], factors: tuple[int, int]) -> None:
    assert reduce_ratio(*rates) == factors


@pytest.mark.parametrize("rates", [(0, 8000), (8000, -1), (44100, 8000)])
def test_reduce_ratio_rejects_bad_or_huge_ratios(rates: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match=r"positive|supported"):
        reduce_ratio(*rates)


@pytest.mark.parametrize("rates", PAIRS)
@pytest.mark.parametrize("phase", ["minimum", "linear"])
def test_design_meets_pass_and_stop_band_targets(
    rates: tuple[int, int], phase: filters.Phase
) -> None:
    d = design_lowpass(*rates, phase=phase)
    narrow_nyquist = min(rates) / 2
    assert d.pass_edge_hz == pytest.approx(0.85 * narrow_nyquist)
    assert d.stop_edge_hz == narrow_nyquist
    passband = d.response_db(np.linspace(0, d.pass_edge_hz, 400))
    stopband = d.response_db(np.linspace(d.stop_edge_hz, d.design_rate_hz / 2, 4000))
    assert passband.max() - passband.min() <= filters.TARGET_RIPPLE_DB
    assert abs(passband.mean()) < 0.03
    assert stopband.max() <= filters.TARGET_STOP_DB


@pytest.mark.parametrize("rates", [(8000, 16000), (24000, 8000)])
def test_minimum_phase_delay_is_within_the_bar_and_linear_is_not(rates: tuple[int, int]) -> None:
    band = np.linspace(300, 3400, 300)
    minimum = design_lowpass(*rates, phase="minimum").group_delay_ms(band)
    linear = design_lowpass(*rates, phase="linear").group_delay_ms(band)
    assert minimum.max() <= 1.5
    assert linear.min() > 3.0  # half the filter length: why minimum phase is the default
    assert np.ptp(linear) < 1e-6


def test_linear_phase_taps_are_symmetric() -> None:
    taps = design_lowpass(24000, 8000, phase="linear").taps
    assert np.array_equal(taps, taps[::-1])


@pytest.mark.parametrize("rates", PAIRS)
def test_taps_sit_on_the_exact_grid_with_headroom(rates: tuple[int, int]) -> None:
    d = design_lowpass(*rates)
    scaled = d.taps * 2.0**filters.QUANT_BITS
    assert np.array_equal(scaled, np.rint(scaled))
    padded = np.zeros(d.taps_per_phase * d.up)
    padded[: len(d.taps)] = np.abs(scaled)
    # Worst-case accumulation of full-scale input stays below 2**53: float64 sums are exact.
    assert padded.reshape(-1, d.up).sum(axis=0).max() * 32768 < 2.0**53


def test_design_is_cached_per_process() -> None:
    assert design_lowpass(24000, 8000) is design_lowpass(24000, 8000)

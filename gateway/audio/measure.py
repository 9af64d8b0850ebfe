"""Audio measurements shared by the tests, the benchmarks and `gateway audio-report`.

Everything works on int16 sample arrays and reports dB. Levels come from a least-squares fit of
a sinusoid at a known frequency, which is exact for stationary tones and insensitive to where the
analysis window starts, so no FFT windowing choices hide anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

FULL_SCALE = 32767.0
PASS_BAND_HZ = (100.0, 3400.0)
DELAY_BAND_HZ = (300.0, 3400.0)


class SampleStream(Protocol):
    """Anything that converts a stream of int16 chunks: our Resampler, or a peer's in bench/."""

    def process(self, samples: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]: ...

    def flush(self) -> npt.NDArray[np.int16]: ...


StreamFactory = Callable[[], SampleStream]
"""Makes a fresh stream for each measurement."""


def tone(
    freq_hz: float,
    rate_hz: int,
    duration_s: float,
    level_dbfs: float = -6.0,
    phase_rad: float = 0.0,
) -> npt.NDArray[np.int16]:
    """A sine tone as int16 samples."""
    t = np.arange(round(duration_s * rate_hz)) / rate_hz
    amplitude = FULL_SCALE * 10 ** (level_dbfs / 20)
    return np.rint(amplitude * np.sin(2 * np.pi * freq_hz * t + phase_rad)).astype(np.int16)


def run_stream(
    stream: SampleStream, samples: npt.NDArray[np.int16], chunk_sizes: Iterable[int]
) -> npt.NDArray[np.int16]:
    """Feed `samples` in chunks of the given sizes (cycled), then flush; return all output."""
    sizes = list(chunk_sizes) or [len(samples)]
    out: list[npt.NDArray[np.int16]] = []
    pos, i = 0, 0
    while pos < len(samples):
        size = max(1, sizes[i % len(sizes)])
        out.append(stream.process(samples[pos : pos + size]))
        pos += size
        i += 1
    out.append(stream.flush())
    return np.concatenate(out) if out else np.zeros(0, np.int16)


def _steady(samples: npt.ArrayLike, rate_hz: int, settle_s: float) -> npt.NDArray[np.float64]:
    """Drop the filter's start-up and ring-out at both ends."""
    x = np.asarray(samples, dtype=np.float64)
    cut = int(settle_s * rate_hz)
    return x[cut : len(x) - cut] if len(x) > 2 * cut else x


def fit_tone(
    samples: npt.ArrayLike, freq_hz: float, rate_hz: int, settle_s: float = 0.02
) -> tuple[float, float, npt.NDArray[np.float64]]:
    """Least-squares fit of a tone at `freq_hz` (with DC) over the steady part of `samples`.

    Returns (amplitude, phase in radians relative to sample 0 of `samples`, residual).
    """
    x = _steady(samples, rate_hz, settle_s)
    start = (len(np.asarray(samples)) - len(x)) // 2
    t = (np.arange(len(x)) + start) / rate_hz
    basis = np.column_stack(
        [np.sin(2 * np.pi * freq_hz * t), np.cos(2 * np.pi * freq_hz * t), np.ones_like(t)]
    )
    coef, *_ = np.linalg.lstsq(basis, x, rcond=None)
    residual = x - basis @ coef
    return float(np.hypot(coef[0], coef[1])), float(np.arctan2(coef[1], coef[0])), residual


def tone_level_dbfs(samples: npt.ArrayLike, freq_hz: float, rate_hz: int) -> float:
    """Level of the tone at `freq_hz` in dB re full scale."""
    amplitude, _, _ = fit_tone(samples, freq_hz, rate_hz)
    return float(20 * np.log10(max(amplitude, 1e-12) / FULL_SCALE))


def rms_dbfs(samples: npt.ArrayLike, rate_hz: int, settle_s: float = 0.02) -> float:
    """RMS level of the steady part of `samples` in dB re a full-scale sine's RMS."""
    x = _steady(samples, rate_hz, settle_s)
    rms = float(np.sqrt(np.mean(x**2))) if len(x) else 0.0
    return float(20 * np.log10(max(rms, 1e-12) / (FULL_SCALE / np.sqrt(2))))


def thd_n_db(samples: npt.ArrayLike, freq_hz: float, rate_hz: int) -> float:
    """THD+N: everything that is not the fitted tone, relative to the tone, in dB."""
    amplitude, _, residual = fit_tone(samples, freq_hz, rate_hz)
    noise_rms = float(np.sqrt(np.mean(residual**2)))
    return float(20 * np.log10(max(noise_rms, 1e-12) / (amplitude / np.sqrt(2))))


def passband_gains_db(
    factory: StreamFactory, in_rate_hz: int, out_rate_hz: int, freqs_hz: Iterable[float]
) -> npt.NDArray[np.float64]:
    """Gain in dB of a fresh stream at each frequency (tones at -6 dBFS, 20 ms chunks)."""
    gains = []
    for f in freqs_hz:
        stream = factory()
        x = tone(f, in_rate_hz, 0.25)
        y = run_stream(stream, x, [in_rate_hz // 50])
        gains.append(tone_level_dbfs(y, f, out_rate_hz) - tone_level_dbfs(x, f, in_rate_hz))
    return np.asarray(gains)


def spurious_db(factory: StreamFactory, in_rate_hz: int, out_rate_hz: int, freq_hz: float) -> float:
    """Level (dB re the input tone) of what a tone at `freq_hz` leaves behind that is not itself.

    For a tone the output rate cannot carry (an alias) that is the whole output; for one it can
    carry (an image test) it is the output minus the fitted tone.
    """
    stream = factory()
    x = tone(freq_hz, in_rate_hz, 0.25, level_dbfs=-1.0)
    y = run_stream(stream, x, [in_rate_hz // 50])
    reference = rms_dbfs(x, in_rate_hz)
    if freq_hz >= out_rate_hz / 2:
        return rms_dbfs(y, out_rate_hz) - reference
    _, _, residual = fit_tone(y, freq_hz, out_rate_hz)
    return rms_dbfs(residual, out_rate_hz, settle_s=0.0) - reference


def measured_delay_ms(
    factory: StreamFactory, in_rate_hz: int, out_rate_hz: int, freq_hz: float, step_hz: float = 20.0
) -> float:
    """Group delay at `freq_hz` measured from the phase slope of two streamed tones."""
    phases = []
    for f in (freq_hz - step_hz / 2, freq_hz + step_hz / 2):
        stream = factory()
        x = tone(f, in_rate_hz, 0.25)
        y = run_stream(stream, x, [in_rate_hz // 50])
        _, phase_out, _ = fit_tone(y, f, out_rate_hz)
        _, phase_in, _ = fit_tone(x, f, in_rate_hz)
        phases.append(phase_out - phase_in)
    slope = np.angle(np.exp(1j * (phases[1] - phases[0])))
    return float(-slope / (2 * np.pi * step_hz) * 1000.0)


@dataclass(frozen=True)
class QualityReport:
    """Measured figures of one conversion, all from streamed runs in 20 ms chunks."""

    in_rate_hz: int
    out_rate_hz: int
    ripple_db: float
    """Peak-to-peak gain variation over 100-3400 Hz."""
    worst_spurious_db: float
    """Worst alias (down-conversion, tones from the output Nyquist to the input Nyquist) or
    image (up-conversion, tones below the input Nyquist), re the input tone."""
    thd_n_db: float
    """THD+N of a 1 kHz tone at -6 dBFS."""
    max_delay_ms: float
    """Largest group delay over 300-3400 Hz."""


def measure_quality(factory: StreamFactory, in_rate_hz: int, out_rate_hz: int) -> QualityReport:
    """Measure a conversion with the tones the quality bars name (takes about a second)."""
    narrow_nyquist = min(in_rate_hz, out_rate_hz) / 2
    ripple_freqs = np.geomspace(PASS_BAND_HZ[0], PASS_BAND_HZ[1], 16)
    gains = passband_gains_db(factory, in_rate_hz, out_rate_hz, ripple_freqs)
    if out_rate_hz < in_rate_hz:
        spur_freqs = np.linspace(narrow_nyquist, in_rate_hz / 2 - 100, 9)
    else:
        spur_freqs = np.linspace(300.0, narrow_nyquist - 100, 9)
    spurs = [spurious_db(factory, in_rate_hz, out_rate_hz, f) for f in spur_freqs]
    x = tone(1000.0, in_rate_hz, 0.5)
    y = run_stream(factory(), x, [in_rate_hz // 50])
    delays = [
        measured_delay_ms(factory, in_rate_hz, out_rate_hz, f)
        for f in np.linspace(DELAY_BAND_HZ[0], DELAY_BAND_HZ[1], 6)
    ]
    return QualityReport(
        in_rate_hz=in_rate_hz,
        out_rate_hz=out_rate_hz,
        ripple_db=float(gains.max() - gains.min()),
        worst_spurious_db=float(max(spurs)),
        thd_n_db=thd_n_db(y, 1000.0, out_rate_hz),
        max_delay_ms=float(max(delays)),
    )

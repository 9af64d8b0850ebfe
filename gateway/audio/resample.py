"""Streaming polyphase sample-rate conversion between telephony and model rates.

`Resampler(in_rate_hz, out_rate_hz)` converts a stream of int16 samples chunk by chunk:

    r = Resampler(24_000, 8_000)
    out = r.process(chunk)      # any chunk size; returns every output whose input has arrived
    tail = r.flush()            # at end of stream: the filter's ring-out, then back to the start
    r.reset()                   # drop all state (barge-in)

How it works. Output sample m of an up/down converter needs input up to index floor(m*down/up)
and the taps_per_phase samples before it. Outputs come in groups of `up` per `down` inputs; a
block of `block_groups` groups is one row of a matrix product: the block's input window (a row of
an overlapping view of the input history) times a precomputed block-Toeplitz matrix whose column
j holds the polyphase taps of the j-th output of the block. One copy of the overlapping rows and
one BLAS matrix product produce a whole chunk, which is what makes the cost per 20 ms a few
microseconds instead of a Python loop or a full-rate convolution.

Exactness. The taps are on a 2**-32 grid and inputs are 16-bit integers, so every product and sum
is exact in float64 (see `filters`). Any chunking, and any BLAS summation order, gives the same
bits as a one-shot run. A block whose last input has not arrived yet is computed with zeros in
its future samples: outputs whose inputs are all present are exact and emitted, the rest are
recomputed when their input arrives. Nothing is held back beyond what causality demands.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from gateway.audio.filters import Phase, design_lowpass
from gateway.audio.g711 import int16_from_exact

Int16Array = npt.NDArray[np.int16]

_TARGET_BLOCK_OUTPUTS = 16
_INT16 = np.dtype(np.int16)


@functools.cache
def _block_matrix(
    in_rate_hz: int, out_rate_hz: int, phase: Phase, block_groups: int
) -> npt.NDArray[np.float64]:
    """The (window, block_groups*up) matrix mapping one block's input window to its outputs.

    Built once per process for each conversion and block size (read-only, shared by all calls).
    """
    design = design_lowpass(in_rate_hz, out_rate_hz, phase)
    up, down, k_taps = design.up, design.down, design.taps_per_phase
    padded = np.zeros(k_taps * up)
    padded[: len(design.taps)] = design.taps
    lead = (up - 1) * down // up
    window = (block_groups - 1) * down + lead + k_taps
    matrix = np.zeros((window, block_groups * up))
    for group in range(block_groups):
        for j in range(up):
            newest = group * down + (j * down) // up + k_taps - 1
            phase_taps = padded[(j * down) % up :: up]
            # Tap k multiplies the input k samples before the newest one this output needs.
            matrix[newest - np.arange(k_taps), group * up + j] = phase_taps
    matrix.flags.writeable = False
    return matrix


class Resampler:
    """A stateful sample-rate converter for one stream (one call, one direction).

    Feed int16 samples with `process` (int16 out) or `process_exact` (exact float64 out, for
    callers that round while encoding, see `g711.*_from_exact`). Call `flush` at the end of a
    stream and `reset` to drop everything.
    """

    def __init__(
        self,
        in_rate_hz: int,
        out_rate_hz: int,
        *,
        phase: Phase = "minimum",
        block_groups: int | None = None,
    ) -> None:
        design = (
            design_lowpass(in_rate_hz, out_rate_hz, phase) if in_rate_hz != out_rate_hz else None
        )
        if in_rate_hz <= 0:
            raise ValueError(f"sample rate must be positive, got {in_rate_hz}")
        self.in_rate_hz = in_rate_hz
        self.out_rate_hz = out_rate_hz
        self.design = design
        self._up = design.up if design else 1
        self._down = design.down if design else 1
        self._k = design.taps_per_phase if design else 1
        self._groups = block_groups or max(1, _TARGET_BLOCK_OUTPUTS // self._up)
        # Same rate: the identity matrix keeps one code path (and the exact-output contract).
        self._matrix = (
            _block_matrix(in_rate_hz, out_rate_hz, phase, self._groups)
            if design
            else np.eye(self._groups)
        )
        self._window = self._matrix.shape[0]
        self._hop = self._groups * self._down
        self._block_outputs = self._groups * self._up
        self.reset()

    # -- stream interface -------------------------------------------------------------------

    def reset(self) -> None:
        """Forget all input: the next sample starts a fresh stream with silent history."""
        self._in_count = 0
        self._out_count = 0
        self._allocate(capacity=self._window + 8192)
        # Global index of _buf[0]; indices below 0 are the silent history before the stream.
        self._buf_start = -(self._k - 1)
        self._buf_len = self._k - 1

    def process(self, samples: npt.ArrayLike) -> Int16Array:
        """Feed int16 samples; return every output sample whose input has now arrived."""
        chunk = np.asarray(samples)
        if chunk.dtype != _INT16:
            raise TypeError(f"expected int16 samples, got {chunk.dtype}")
        return int16_from_exact(self.process_exact(chunk.reshape(-1)))

    def process_exact(self, samples: npt.NDArray[np.int16]) -> npt.NDArray[np.float64]:
        """Like `process`, but return the exact filter output before rounding (a fresh array).

        `samples` must be a 1-D int16 array (or integer-valued floats in the int16 range).
        """
        n = samples.size
        if n == 0:
            return np.zeros(0)
        buf_len = self._buf_len
        if buf_len + n + self._window > self._buf.size:
            self._compact(buf_len + n + self._window)
            buf_len = self._buf_len
        self._buf[buf_len : buf_len + n] = samples
        self._buf_len = buf_len + n
        self._in_count = in_count = self._in_count + n
        # Inline rather than a method: this runs 50 times a second per call and direction.
        up, groups, hop = self._up, self._groups, self._hop
        available = -(-in_count * up // self._down)
        first = self._out_count
        if available <= first:
            return np.zeros(0)
        first_block = first // up // groups
        blocks = (available - 1) // up // groups - first_block + 1
        row0 = first_block * hop - self._k + 1 - self._buf_start
        rows = self._windows[row0 : row0 + (blocks - 1) * hop + 1 : hop]
        # BLAS needs rows that do not overlap: copy them into one contiguous block first (an
        # explicit copy is 2 µs cheaper than letting np.dot or np.matmul copy internally).
        values: npt.NDArray[np.float64] = np.dot(rows.copy(), self._matrix).reshape(-1)
        skip = first - first_block * self._block_outputs
        self._out_count = available
        return values[skip : skip + available - first]

    def flush(self) -> Int16Array:
        """End the stream: return the remaining ring-out of the filter, then reset."""
        return int16_from_exact(self.flush_exact())

    def flush_exact(self) -> npt.NDArray[np.float64]:
        """Like `flush`, with exact float64 output."""
        tail = np.zeros(0)
        if self._in_count and self._k > 1:
            # K-1 silent inputs complete every output that any real input contributes to.
            tail = self.process_exact(np.zeros(self._k - 1, dtype=np.int16))
        self.reset()
        return tail

    @property
    def input_samples(self) -> int:
        """Samples consumed since the last reset."""
        return self._in_count

    @property
    def output_samples(self) -> int:
        """Samples produced since the last reset."""
        return self._out_count

    # -- internals ----------------------------------------------------------------------------

    def _allocate(self, capacity: int) -> None:
        self._buf = np.zeros(capacity, dtype=np.float64)
        # Rows of this view are every window position; a block's rows are a strided slice of it.
        self._windows = sliding_window_view(self._buf, self._window)

    def _compact(self, needed: int) -> None:
        """Drop input no future output needs; grow the buffer if the chunk is still too large."""
        first_block = (self._out_count // self._up) // self._groups
        keep_from = first_block * self._hop - (self._k - 1) - self._buf_start
        kept = self._buf[keep_from : self._buf_len].copy()
        if needed - keep_from > self._buf.size:
            self._allocate(capacity=2 * (needed - keep_from) + self._window)
        else:
            # Past the data the buffer must read as silence (a partial block's future input).
            self._buf[kept.size : self._buf_len] = 0.0
        self._buf[: kept.size] = kept
        self._buf_start += keep_from
        self._buf_len = kept.size

"""End-to-end harness: the real gateway app on uvicorn (loopback), the Live emulator, the simulator.

`running_gateway(emulator, env)` serves the gateway in this event loop on a free port, pointed at
the emulator, and collects every finished call (`Gateway.calls`). For the separate-process case
see test_process.py.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import uvicorn
from scipy import signal

from gateway.audio.paths import CarrierFormat, Encoding, UplinkPath
from gateway.emulator import LiveEmulator
from gateway.settings import load_settings
from gateway.shell.app import build_app
from gateway.shell.connector import LiveConnector
from gateway.shell.runtime import CallRecord, GatewayRuntime
from gateway.shell.serve import uvicorn_config
from gateway.sim.codecs import StreamCodec

AUTH_TOKEN = "test-auth-token-0123456789"
ACCOUNT_SID = "AC" + "1" * 32


@dataclass
class Gateway:
    base_url: str
    runtime: GatewayRuntime
    calls: list[CallRecord] = field(default_factory=list)


@asynccontextmanager
async def running_gateway(
    emulator: LiveEmulator, env: Mapping[str, str] | None = None
) -> AsyncIterator[Gateway]:
    environ = {
        "GATEWAY_LIVE_URL": emulator.plain_url,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "GATEWAY_SECRET": "e2e-secret-0123456789abcdef",
        # Calls here keep long quiet stretches on purpose: the silence watch (on by default,
        # 8 s) is off unless a test sets it (tests/e2e/test_caller_conduct.py).
        "GATEWAY_SILENCE_PROMPT_S": "0",
        **(env or {}),
    }
    settings = load_settings(environ, env_file=None)
    app = build_app(settings, LiveConnector.from_settings(settings))
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", 0))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            await wait_for(lambda: server.started, 10)
        port = server.servers[0].sockets[0].getsockname()[1]
        runtime: GatewayRuntime = app.state.gateway
        gateway = Gateway(f"http://127.0.0.1:{port}", runtime)
        runtime.observers.append(gateway.calls.append)
        yield gateway
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


async def wait_for(predicate: object, timeout_s: float = 5.0) -> None:
    """Poll `predicate()` until true (a condition that follows a call's end, not a timing)."""
    assert callable(predicate)
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110 - the condition is another component's state
            await asyncio.sleep(0.02)


def uplink_reference(
    said: npt.NDArray[np.int16], codec: StreamCodec | None = None
) -> npt.NDArray[np.int16]:
    """What Live must receive for `said` (8 kHz): its 20 ms frames as the carrier encodes them
    (μ-law, or `codec`: L16 at the stream's rate) through a fresh uplink path. L16 in network
    byte order reaches the path little-endian (the translator swaps it), so it is encoded so."""
    codec = codec or StreamCodec(Encoding.MULAW)
    if codec.big_endian:
        codec = StreamCodec(codec.encoding, codec.rate_hz)
    path = UplinkPath(CarrierFormat(codec.encoding, codec.rate_hz))
    frames = [codec.encode(said[i : i + 160]) for i in range(0, len(said), 160)]
    out = [path.process(frame) for frame in frames]
    return np.frombuffer(b"".join(out), dtype="<i2").astype(np.int16)


_SPEECH_BAND = signal.butter(6, [200, 2400], btype="bandpass", fs=8000, output="sos")


def best_correlation(heard: npt.NDArray[np.int16], said: npt.NDArray[np.int16]) -> float:
    """Peak normalised cross-correlation of `said` within `heard` (1.0: an exact copy).

    Both are band-limited to 200-2400 Hz first: an echo crosses three minimum-phase resamplers
    (8->16 kHz up, the emulator's 16->24 kHz, 24->8 kHz down) whose phase is non-linear near the
    3.4 kHz band edge, so fricatives correlate poorly as raw waveforms even though their
    spectrum and level come through intact.
    """
    a = signal.sosfiltfilt(_SPEECH_BAND, heard.astype(np.float64))
    b = signal.sosfiltfilt(_SPEECH_BAND, said.astype(np.float64))
    if len(a) < len(b) or not b.any():
        return 0.0
    corr = np.correlate(a, b, mode="valid")
    window = np.convolve(a**2, np.ones(len(b)), mode="valid")
    norm = np.sqrt(window * np.sum(b**2)) + 1e-9
    return float(np.max(corr / norm))


T = TypeVar("T")


def run_real_time(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` for calls played in real time with the simulator, the gateway and the
    emulator in this one process: the heap the test session has built up so far is collected
    and frozen first, so that no full garbage collection over it stalls all three at once in the
    middle of a call (the simulator then hears an answer late and cut)."""
    gc.collect()
    gc.freeze()
    try:
        return asyncio.run(main)
    finally:
        gc.unfreeze()

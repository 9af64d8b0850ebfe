"""N concurrent real-time Twilio calls through a real `gateway serve`: its CPU cost and latency.

Three kinds of process, so that the one being measured is alone in its own:

* the gateway (`gateway serve`, signed webhooks with TWILIO_AUTH_TOKEN, JSON logs on stdout):
  what is measured. Its CPU time (utime + stime from /proc/<pid>/stat) over the window from the
  first call's start to the last call's end is divided by the call-minutes placed, and its run
  delay (/proc/<pid>/schedstat) says how long it was runnable but had no CPU;
* the Live emulator (`gateway emulator`, echo mode for the recorded profile, stream mode for
  the heavy one; `--tls` for a wss:// Live leg), one process: the load table shows its
  share of a core (about 0.6 % per session here, so one process carries 100 sessions; on a
  2-core machine a second one would only compete for the same cores);
* the simulated callers (`gateway.sim.place_call`, speed 1: latency only means something in real
  time) in worker processes of this script (`--callers-per-worker`), which report every call's
  `CallReport` facts and their own pacing lag (how late each 20 ms frame left against its due
  time).

Every child leads its own session (Ctrl-C reaches only this script, which stops them in order:
callers, gateway, emulator; SIGTERM, then SIGKILL after 10 s; PR_SET_PDEATHSIG covers a killed
bench). The emulator and the callers run at nice 10 (`--nice`, also set on their autogroup), so
when the machine is short of cores the gateway gets the CPU first.

Latency comes from the gateway's own measurements in its `call.ended` lines (carrier frame in ->
Live frame out, Live audio in -> carrier frame out, `interrupted` in -> `clear` out): every call
reports its own p50 and p99, and the table gives the median of the per-call p50s, the median of
the per-call p99s and the largest per-call p99.

In the recorded profile (the default) callers replay tests/recordings/*.wav (with their
sidecars) back to back up to `--duration-s`, pausing after each; a share of the calls
(`--interrupt-share`) starts with the `interrupt` recording so barge-ins happen. Without
recordings the script falls back to synthetic speech-like bursts and says so. The heavy profile
(`--profiles heavy`) has both parties talk all the time; `--tls on|both` runs the Live leg over
TLS (bench/call_profiles.py).

    python bench/calls.py                       # N = 10, 50, 100; 20 s calls
    python bench/calls.py --calls 100 --duration-s 30 --profile /tmp/gw   # py-spy the gateway
    python bench/calls.py --calls 10,25 --profiles recorded,heavy --tls both

Prints machine facts, one line per N and variant as it finishes, then three tables (gateway;
load and pacing; messages and syscalls per call-second, bench/traffic.py). Medians and ratios
from one run; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import dataclasses
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import numpy.typing as npt
import traffic
from call_profiles import PROFILES, Variant, compose_continuous, parse_profiles, parse_tls, variants

from gateway.sim import schedule as sim_schedule
from gateway.sim.analysis import speech_segments
from gateway.sim.call import place_call
from gateway.sim.recording import RecordingError, load_recording
from gateway.sim.report import CallReport
from gateway.sim.script import CALL_RATE_HZ, CallScript, DtmfPress, SimOptions, Utterance

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
RECORDINGS = ROOT / "tests" / "recordings"
MIN_GAP_MS = 2_500.0
"""Silence after a recording at least, so the echoed answer plays before the next one starts."""
MAX_GAP_MS = 5_000.0
RAMP_S = 2.0
"""Call starts are spread over this long, so 20 ms frames of different calls are not in phase."""
STOP_TIMEOUT_S = 10.0
CLK_TCK = os.sysconf("SC_CLK_TCK")

Audio = npt.NDArray[np.int16]


# ------------------------------------------------------------------------------ caller scripts


@dataclass(frozen=True, eq=False)
class Piece:
    """One recording: the caller's audio, where they speak, and the silence to leave after it."""

    name: str
    audio: Audio
    utterances: tuple[Utterance, ...]
    gap_ms: float
    dtmf: tuple[DtmfPress, ...] = ()

    @property
    def audio_ms(self) -> float:
        return len(self.audio) * 1000 / CALL_RATE_HZ

    def prefix(self, max_ms: float) -> Piece | None:
        """The piece cut just after its last utterance that ends by `max_ms` (None: none does)."""
        kept = tuple(u for u in self.utterances if u.end_ms <= max_ms)
        if not kept:
            return None
        end_ms = min(kept[-1].end_ms + 100, max_ms, self.audio_ms)
        audio = self.audio[: round(end_ms * CALL_RATE_HZ / 1000)]
        dtmf = tuple(d for d in self.dtmf if d.at_ms <= end_ms)
        return Piece(self.name, audio, kept, self.gap_ms, dtmf)


def _synthetic_speech(seconds: float, seed: int) -> Audio:
    """Voiced, syllable-modulated harmonics around -20 dBFS (above every VAD threshold)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * CALL_RATE_HZ)) / CALL_RATE_HZ
    f0 = 130 + 20 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6))
    phase = 2 * np.pi * np.cumsum(f0) / CALL_RATE_HZ
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.45 + 0.55 * np.abs(np.sin(np.pi * 4 * t + rng.uniform(0, 3)))
    signal_ = voice * envelope
    signal_ *= 0.1 * 32767 / np.sqrt(np.mean(signal_**2))
    return np.clip(signal_, -32767, 32767).astype(np.int16)


def synthetic_pieces() -> list[Piece]:
    silence = np.zeros(int(1.1 * CALL_RATE_HZ), dtype=np.int16)
    first, second = _synthetic_speech(2.0, 3), _synthetic_speech(1.2, 4)
    interrupt = np.concatenate([first, silence, second])
    return [
        Piece("question", _synthetic_speech(1.6, 1), (Utterance(0, 1600, "question"),), 3_500),
        Piece("short", _synthetic_speech(0.8, 2), (Utterance(0, 800, "short"),), 2_500),
        Piece(
            "interrupt",
            interrupt,
            (Utterance(0, 2000, "long"), Utterance(3100, 4300, "barge-in")),
            3_000,
        ),
    ]


def load_pieces(directory: Path) -> tuple[list[Piece], str]:
    """The recordings in `directory` (description of what was used), else the synthetic set.

    Recordings whose sidecar asks for a non-default emulator VAD threshold are skipped: one
    emulator serves every call with its defaults.
    """
    paths = sorted(directory.glob("*.wav")) if directory.is_dir() else []
    pieces: list[Piece] = []
    skipped: list[str] = []
    for path in paths:
        try:
            recording = load_recording(path)
        except RecordingError as exc:
            skipped.append(f"{path.stem} ({exc})")
            continue
        if recording.vad_threshold_dbfs is not None:
            skipped.append(f"{path.stem} (needs emulator VAD {recording.vad_threshold_dbfs} dBFS)")
            continue
        script = recording.script
        utterances = script.utterances or tuple(
            Utterance(s.start_ms, s.end_ms) for s in speech_segments(script.audio, merge_gap_ms=500)
        )
        if not utterances:
            skipped.append(f"{path.stem} (no speech)")
            continue
        gap = min(max(script.tail_ms, MIN_GAP_MS), MAX_GAP_MS)
        pieces.append(Piece(path.stem, script.audio, utterances, gap, script.dtmf))
    if not pieces:
        return synthetic_pieces(), f"SYNTHETIC speech bursts ({directory} has no usable WAV)"
    where = directory.relative_to(ROOT) if directory.is_relative_to(ROOT) else directory
    text = f"{len(pieces)} recordings from {where}: {', '.join(p.name for p in pieces)}"
    return pieces, text + (f"; skipped {', '.join(skipped)}" if skipped else "")


def is_interrupt(piece: Piece) -> bool:
    return "interrupt" in piece.name


def compose(pieces: Sequence[Piece], index: int, duration_ms: float, barge: bool) -> CallScript:
    """Recordings back to back (each followed by its gap) filling `duration_ms` of call.

    Call `index` starts at its own place in the list; a `barge` call starts with the interrupt
    recording. A recording that does not fit is cut after its last utterance that does; the
    last recording's gap grows into the tail that completes the duration.
    """
    plain = [p for p in pieces if not is_interrupt(p)] or list(pieces)
    interrupts = [p for p in pieces if is_interrupt(p)]
    first = [interrupts[index % len(interrupts)]] if barge and interrupts else []
    chunks: list[Audio] = []
    utterances: list[Utterance] = []
    dtmf: list[DtmfPress] = []
    samples = 0  # audio so far
    gap = 0  # silence owed after the last piece, in samples
    k = 0
    while True:  # every round adds at least one utterance, and the room shrinks
        piece = first[k] if k < len(first) else plain[(index + k) % len(plain)]
        k += 1
        start = samples + gap
        room_ms = duration_ms - MIN_GAP_MS - start * 1000 / CALL_RATE_HZ
        if piece.audio_ms > room_ms:
            floor_ms = piece.utterances[0].end_ms if not chunks else 0.0  # say something
            cut = piece.prefix(max(room_ms, floor_ms))
            if cut is None:
                break
            piece = cut
        if gap:
            chunks.append(np.zeros(gap, dtype=np.int16))
        offset_ms = start * 1000 / CALL_RATE_HZ
        utterances += [
            Utterance(u.start_ms + offset_ms, u.end_ms + offset_ms, u.text)
            for u in piece.utterances
        ]
        dtmf += [DtmfPress(d.at_ms + offset_ms, d.digit) for d in piece.dtmf]
        chunks.append(piece.audio)
        samples = start + len(piece.audio)
        gap = round(piece.gap_ms * CALL_RATE_HZ / 1000)
    audio_ms = samples * 1000 / CALL_RATE_HZ
    tail_ms = max(duration_ms - audio_ms, MIN_GAP_MS)
    return CallScript(np.concatenate(chunks), tuple(dtmf), tuple(utterances), tail_ms)


def answered(report: CallReport) -> tuple[int, int]:
    """(caller utterances followed by audible gateway audio before the next one, utterances)."""
    caller = report.caller_utterances
    starts = [segment.start_ms for segment in report.agent_segments]
    count = 0
    for k, utterance in enumerate(caller):
        until = caller[k + 1].start_ms if k + 1 < len(caller) else math.inf
        count += any(utterance.end_ms <= start < until for start in starts)
    return count, len(caller)


# ------------------------------------------------------------------------------ caller workers

BENCH_KEY = "bench"
"""Marks this script's own result lines on a worker's stdout (anything else there is a log)."""


def _emit(kind: str, **fields: Any) -> None:
    print(json.dumps({BENCH_KEY: kind, **fields}), flush=True)


def _install_pacing_probe(lags_ms: list[float]) -> bool:
    """Record how late the simulator takes each uplink frame against its due time.

    The simulator sends every frame as soon as `UplinkSchedule.take_due` hands it out, so
    `now - due` there is its pacing lag. Wrapped in this worker process only.
    """
    cls = getattr(sim_schedule, "UplinkSchedule", None)
    original: Callable[[Any, float], list[Any]] | None = getattr(cls, "take_due", None)
    if cls is None or original is None:
        return False
    frame_type = sim_schedule.SendFrame

    def take_due(self: Any, now_ms: float) -> list[Any]:
        items = original(self, now_ms)
        lags_ms.extend(now_ms - item.at_ms for item in items if isinstance(item, frame_type))
        return items

    cls.take_due = take_due
    return True


def _percentiles(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    array = np.asarray(values)
    return {
        "p50": float(np.percentile(array, 50)),
        "p99": float(np.percentile(array, 99)),
        "max": float(array.max()),
    }


def _call_facts(index: int, barge: bool, report: CallReport) -> dict[str, Any]:
    heard, utterances = answered(report)
    return {
        "index": index,
        "barge": barge,
        "outcome": str(report.outcome),
        "ok": report.ok,
        "errors": [f"{error.code}: {error.reason}" for error in report.errors],
        "duration_ms": report.duration_ms,
        "utterances": utterances,
        "answered": heard,
        "answer_latency_ms": report.answer_latency_ms,
        "barge_ins": len(report.barge_ins),
        "barge_ins_cleared": sum(b.cleared for b in report.barge_ins),
        "clears": len(report.clears),
        "frames_sent": report.media_frames_sent,
        "frames_received": report.media_frames_received,
    }


async def _worker(job: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    pieces, _ = load_pieces(Path(job["recordings"]))
    lags_ms: list[float] = []
    probe = _install_pacing_probe(lags_ms)
    messages: dict[str, int] = {}
    traffic.install_message_probe(messages)
    continuous = PROFILES[job.get("profile", "recorded")].continuous
    calls = [
        (
            index,
            barge,
            offset,
            compose_continuous(pieces, index, job["duration_ms"])
            if continuous
            else compose(pieces, index, job["duration_ms"], barge),
        )
        for index, barge, offset in job["calls"]
    ]
    _emit("ready", probe=probe)
    line = await asyncio.to_thread(sys.stdin.readline)
    start_at = float(json.loads(line)["start_at"])  # time.time() of the first call

    async def one(index: int, barge: bool, offset: float, script: CallScript) -> None:
        await asyncio.sleep(max(0.0, start_at + offset - time.time()))
        options = SimOptions(auth_token=job["token"], speed=1.0)
        try:
            report = await place_call(job["url"], script, options)
        except Exception as exc:  # place_call should not raise; if it does, count it
            _emit(
                "call", index=index, barge=barge, ok=False, outcome="exception", errors=[repr(exc)]
            )
            return
        _emit("call", **_call_facts(index, barge, report))

    async with asyncio.TaskGroup() as group:
        for index, barge, offset, script in calls:
            group.create_task(one(index, barge, offset, script))
    _emit("done", probe=probe, frames=len(lags_ms), messages=messages, **_percentiles(lags_ms))


def worker_main() -> None:
    job = json.loads(sys.stdin.readline())
    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        asyncio.run(_worker(job))


# ------------------------------------------------------------------------------ child processes


def _child_setup(nice: int) -> Callable[[], None]:
    """Runs in the child before exec (after setsid): SIGTERM when the bench dies (even by
    SIGKILL), and niceness."""

    def setup() -> None:
        with contextlib.suppress(Exception):
            ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if nice:
            os.nice(nice)
            # Each child leads its own session, so with autogroup scheduling (most desktop and
            # VM kernels) it is its own group and only the group's niceness counts against the
            # gateway's.
            with contextlib.suppress(OSError), open("/proc/self/autogroup", "w") as group:
                group.write(str(nice))

    return setup


def cpu_s(pid: int) -> float:
    """utime + stime of one process and of its running child processes (the workers of
    `gateway serve --workers N`), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    own = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return own + sum(cpu_s(child) for child in child_pids(pid))


def child_pids(pid: int) -> list[int]:
    """The running child processes of `pid` (the workers of `gateway serve --workers N`)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def run_delay_s(pid: int) -> float:
    """How long the process's main thread waited, runnable, for a CPU (/proc/<pid>/schedstat);
    with worker processes, the longest of theirs (each has its own event loop)."""
    workers = child_pids(pid)
    if workers:
        return max(run_delay_s(worker) for worker in workers)
    try:
        with open(f"/proc/{pid}/schedstat") as handle:
            return int(handle.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return math.nan


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM in /proc/<pid>/status), in MiB; with worker
    processes, the sum of theirs."""
    workers = child_pids(pid)
    if workers:
        return sum(peak_rss_mib(worker) for worker in workers)
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return math.nan


def interrupt_jiffies() -> int:
    """irq + softirq jiffies of all CPUs since boot (/proc/stat)."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    return sum(values[5:7])


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot (/proc/stat)."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already in user
    return total - idle, total


class Child:
    """A child process in its own session, its stdout read line by line (JSON records)."""

    def __init__(
        self,
        name: str,
        process: asyncio.subprocess.Process,
        on_record: Callable[[dict[str, Any]], None] | None,
        echo_stderr: bool = False,
    ) -> None:
        self.name = name
        self.process = process
        self.tail: list[str] = []
        self._on_record = on_record
        assert process.stdout is not None
        assert process.stderr is not None
        self._readers = [
            asyncio.create_task(self._read(process.stdout, parse=True, echo=False)),
            asyncio.create_task(self._read(process.stderr, parse=False, echo=echo_stderr)),
        ]

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _read(self, stream: asyncio.StreamReader, *, parse: bool, echo: bool) -> None:
        async for raw in stream:
            line = raw.decode(errors="replace").rstrip()
            record: Any = None
            if parse and line.startswith("{"):
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
            if isinstance(record, dict) and self._on_record is not None:
                self._on_record(record)
                continue
            self.tail = [*self.tail[-29:], line]
            if echo:
                print(f"[{self.name}] {line}", file=sys.stderr, flush=True)

    def send(self, data: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(data) + "\n").encode())

    async def stop(self, signum: int = signal.SIGTERM) -> None:
        """`signum` (SIGTERM), wait, SIGKILL after STOP_TIMEOUT_S; then drain its pipes."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signum)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                print(
                    f"{self.name} ignored SIGTERM for {STOP_TIMEOUT_S:.0f} s: killed",
                    file=sys.stderr,
                )
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*self._readers), 5)
        for reader in self._readers:
            reader.cancel()


async def spawn(
    name: str,
    argv: Sequence[str],
    env: dict[str, str],
    on_record: Callable[[dict[str, Any]], None] | None = None,
    *,
    stdin: bool = False,
    echo_stderr: bool = False,
    nice: int = 0,
) -> Child:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
        start_new_session=True,  # Ctrl-C reaches the bench only; it stops the children in order
        preexec_fn=_child_setup(nice),
        limit=1 << 20,
    )
    return Child(name, process, on_record, echo_stderr)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def until(
    predicate: Callable[[], bool], timeout_s: float, what: str, children: Iterable[Child] = ()
) -> None:
    """Poll `predicate` until true; fail if it takes too long or a child exits meanwhile."""
    async with asyncio.timeout(timeout_s):
        while not predicate():
            for child in children:
                if child.process.returncode is not None:
                    tail = "\n  ".join(child.tail[-15:])
                    raise RuntimeError(
                        f"{child.name} exited ({child.process.returncode}) before {what}:\n  {tail}"
                    )
            await asyncio.sleep(0.05)


async def wait_healthy(base_url: str, child: Child, timeout_s: float = 60.0) -> None:
    async with httpx.AsyncClient(timeout=1.0) as client, asyncio.timeout(timeout_s):
        while True:
            if child.process.returncode is not None:
                tail = "\n  ".join(child.tail[-15:])
                raise RuntimeError(f"the gateway exited ({child.process.returncode}):\n  {tail}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{base_url}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)


async def start_profiler(stem: Path, tag: str, pid: int, env: dict[str, str], nice: int) -> Child:
    """py-spy (from the venv or PATH) sampling the gateway without pausing it, for the window."""
    found = shutil.which("py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}")
    if found is None:
        raise RuntimeError("--profile needs py-spy (pip install py-spy; not a project dependency)")
    out = stem.with_name(f"{stem.name}-{tag}.txt")
    argv = [
        found,
        "record",
        "--pid",
        str(pid),
        "--nonblocking",
        "--rate",
        "200",
        "--format",
        "raw",
        "--output",
        str(out),
    ]
    return await spawn("py-spy", argv, env, nice=nice)


# ------------------------------------------------------------------------------ one level of N


@dataclass
class Level:
    calls: int
    workers: int
    load_1m: float = math.nan
    placed: list[dict[str, Any]] = field(default_factory=list)
    """What each simulated caller reported (worker `call` records)."""
    ended: list[dict[str, Any]] = field(default_factory=list)
    """The gateway's `call.ended` records."""
    gateway_log: Counter[str] = field(default_factory=Counter)
    """Gateway warnings and errors: "level event" -> count."""
    pacing: list[dict[str, Any]] = field(default_factory=list)
    window_s: float = math.nan
    cpu_s: dict[str, float] = field(default_factory=dict)
    """gateway / emulator / callers / bench / machine CPU seconds over the window."""
    call_minutes: float = math.nan
    gateway_waited_s: float = math.nan
    """How long the gateway's event loop thread was runnable but not running (schedstat)."""
    metrics: str = ""
    """The gateway's `GET /metrics` once every call had ended (Prometheus text format)."""
    gateway_peak_rss_mib: float = math.nan
    """The gateway's peak resident memory (VmHWM) over its life, read after the calls."""
    variant: Variant = field(default_factory=Variant)
    """The call profile and whether the Live leg was TLS."""
    live_messages: dict[str, int] = field(default_factory=dict)
    """The emulator's WebSocket message counts (received, sent) over the level."""
    syscalls: dict[str, Any] = field(default_factory=dict)
    """The gateway's syscalls per leg over a sample while every call was up (bench/traffic)."""
    proc_io: dict[str, int] = field(default_factory=dict)
    """The gateway's /proc/<pid>/io syscr and syscw over the window."""


def _clean_env() -> dict[str, str]:
    """This environment without the gateway's own settings (the bench sets those itself)."""
    prefixes = ("GATEWAY_", "TWILIO_", "GEMINI_", "GOOGLE_", "LOG_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return {**env, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}


def _is_barge(index: int, share: float) -> bool:
    """Spread `share` of the calls evenly over the indices (index 0 is one when share > 0)."""
    return math.floor((index + 1) * share + 1e-9) > math.floor(index * share + 1e-9) or (
        index == 0 and share > 0
    )


async def run_level(n: int, args: argparse.Namespace, variant: Variant | None = None) -> Level:
    variant = variant or Variant()
    workers_n = max(1, math.ceil(n / args.callers_per_worker))
    level = Level(n, workers_n, variant=variant)
    env = _clean_env()
    token = secrets.token_hex(16)
    children: list[Child] = []
    certificates = tempfile.TemporaryDirectory(prefix="bench-live-tls-")
    sampler: asyncio.Task[dict[str, Any]] | None = None
    cprofile_out: Path | None = None
    try:
        # The Live emulator (TLS: a generated certificate, written for the gateway to trust).
        live_urls: list[str] = []

        def on_emulator(record: dict[str, Any]) -> None:
            if record.get("event") == "emulator.ready":
                live_urls.append(str(record["plain_url"]))
            elif record.get("event") == "emulator.stopped":
                level.live_messages = {
                    "received": int(record.get("messages_received", 0)),
                    "sent": int(record.get("messages_sent", 0)),
                }

        argv = [
            sys.executable,
            "-m",
            "gateway",
            "emulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--mode",
            variant.profile.emulator_mode,
        ]
        ca_file = Path(certificates.name) / "emulator.pem"
        argv += ["--tls", "--cert-out", str(ca_file)] if variant.tls else []
        emulator = await spawn("emulator", argv, env, on_emulator, nice=args.nice)
        children.append(emulator)
        await until(lambda: bool(live_urls), 60, "it was ready", [emulator])

        # The gateway, as in production: signed webhooks, JSON logs.
        def on_gateway(record: dict[str, Any]) -> None:
            if record.get("event") == "call.ended":
                level.ended.append(record)
            severity = str(record.get("level", ""))
            if severity in {"warning", "error", "critical"}:
                error = record.get("error") or record.get("error_type")
                detail = f" ({error})" if isinstance(error, str) else ""
                level.gateway_log[f"{severity} {record.get('event')}{detail}"] += 1

        gateway_port = free_port()
        gateway_env = {
            **env,
            "GATEWAY_LIVE_URL": live_urls[0],
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(gateway_port),
            "GATEWAY_SECRET": secrets.token_hex(16),
            "TWILIO_AUTH_TOKEN": token,
            "GATEWAY_MAX_CALLS": str(max(100, 2 * n)),  # admission is not what is measured
            **({"GATEWAY_LIVE_CA_FILE": str(ca_file)} if variant.tls else {}),
            **dict(getattr(args, "gateway_env", None) or []),
        }
        gateway_argv = [sys.executable, "-m", "gateway", "serve", "--env-file", os.devnull]
        cprofile_stem = getattr(args, "cprofile", None)
        if cprofile_stem is not None:  # the whole process under cProfile, written at its exit
            tag = f"N{n}-{variant.profile.name}-{'wss' if variant.tls else 'ws'}"
            cprofile_out = Path(f"{cprofile_stem}-{tag}.prof")
            gateway_argv[1:1] = ["-m", "cProfile", "-o", str(cprofile_out)]
        gateway = await spawn(
            "gateway", gateway_argv, gateway_env, on_gateway, nice=getattr(args, "gateway_nice", 0)
        )
        children.append(gateway)
        base_url = f"http://127.0.0.1:{gateway_port}"
        await wait_healthy(base_url, gateway)

        # The callers.
        ready: list[dict[str, Any]] = []

        def on_worker(record: dict[str, Any]) -> None:
            kind = record.get(BENCH_KEY)
            if kind == "call":
                level.placed.append(record)
            elif kind == "done":
                level.pacing.append(record)
            elif kind == "ready":
                ready.append(record)

        share = 0.0 if variant.profile.continuous else args.interrupt_share
        specs = [(i, _is_barge(i, share), RAMP_S * i / n) for i in range(n)]
        worker_argv = [sys.executable, str(SCRIPT), "--worker"]
        workers = [
            await spawn(
                f"callers-{k + 1}",
                worker_argv,
                env,
                on_worker,
                stdin=True,
                echo_stderr=True,
                nice=args.nice,
            )
            for k in range(workers_n)
        ]
        children += workers
        for k, worker in enumerate(workers):
            worker.send(
                {
                    "recordings": str(args.recordings),
                    "duration_ms": args.duration_s * 1000,
                    "token": token,
                    "url": base_url,
                    "profile": variant.profile.name,
                    "calls": specs[k::workers_n],
                }
            )
        await until(lambda: len(ready) == workers_n, 120, "its callers were ready", workers)

        # The measurement window: from the first call's start to the last call's end.
        level.load_1m = os.getloadavg()[0]
        groups = {"gateway": [gateway], "emulator": [emulator], "callers": workers}
        start_at = time.time() + 0.1
        for worker in workers:
            worker.send({"start_at": start_at})
        await asyncio.sleep(max(0.0, start_at - time.time()))
        before = {name: sum(cpu_s(c.pid) for c in group) for name, group in groups.items()}
        busy_before, total_before = machine_jiffies()
        interrupts_before = interrupt_jiffies()
        waited_before = run_delay_s(gateway.pid)
        io_before = traffic.proc_io(gateway.pid)
        bench_before, wall_before = time.process_time(), time.perf_counter()
        tag = f"N{n}-{variant.profile.name}-{'wss' if variant.tls else 'ws'}"
        profiler = (
            await start_profiler(args.profile, tag, gateway.pid, env, args.nice)
            if args.profile
            else None
        )
        sample_s = min(getattr(args, "syscall_sample_s", 0.0), args.duration_s - RAMP_S - 4.0)
        if sample_s >= 1.0:
            live_port = urlsplit(live_urls[0]).port or 0
            sampler = asyncio.create_task(
                _sample_later(
                    start_at + RAMP_S + 1.5,
                    gateway.pid,
                    gateway_port,
                    live_port,
                    sample_s,
                    args.nice,
                )
            )
        elif getattr(args, "syscall_sample_s", 0.0) > 0:
            level.syscalls = {"error": "calls too short to sample (--duration-s >= 7.5 needed)"}
        children += [profiler] if profiler else []
        limit_s = args.duration_s + RAMP_S + 120
        await until(lambda: len(level.pacing) == workers_n, limit_s, "its calls ended", workers)
        level.window_s = time.perf_counter() - wall_before
        io_after = traffic.proc_io(gateway.pid)
        level.proc_io = {k: io_after[k] - io_before[k] for k in io_after if k in io_before}
        if sampler is not None:
            level.syscalls = await sampler
        if profiler is not None:
            await profiler.stop(signal.SIGINT)  # py-spy writes its profile on SIGINT
        level.cpu_s = {
            name: sum(cpu_s(c.pid) for c in group) - before[name] for name, group in groups.items()
        }
        busy_after, total_after = machine_jiffies()
        interrupts_after = interrupt_jiffies()
        level.gateway_waited_s = run_delay_s(gateway.pid) - waited_before
        cores = os.cpu_count() or 1
        level.cpu_s["bench"] = time.process_time() - bench_before
        level.cpu_s["machine"] = (
            (busy_after - busy_before) / max(1, total_after - total_before) * cores * level.window_s
        )
        # Interrupt and softirq time belongs to no process: on loopback it is mostly the calls'
        # own packets (each message crosses the kernel twice), so it is not someone else's work.
        level.cpu_s["interrupts"] = (
            (interrupts_after - interrupts_before)
            / max(1, total_after - total_before)
            * cores
            * level.window_s
        )
        level.call_minutes = sum(float(c.get("duration_ms", 0.0)) for c in level.placed) / 60_000
        streamed = sum(1 for c in level.placed if c.get("frames_sent"))
        with contextlib.suppress(TimeoutError):  # call.ended is logged just after the close
            await until(lambda: len(level.ended) >= streamed, 10, "every call.ended", [gateway])
        with contextlib.suppress(httpx.HTTPError):
            async with httpx.AsyncClient(timeout=5.0) as client:
                level.metrics = (await client.get(f"{base_url}/metrics")).text
        level.gateway_peak_rss_mib = peak_rss_mib(gateway.pid)
    finally:  # callers first, then the gateway, then what it talks to
        if sampler is not None and not sampler.done():
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
        for prefix in ("py-spy", "callers", "gateway", "emulator"):
            await asyncio.gather(*(c.stop() for c in children if c.name.startswith(prefix)))
        certificates.cleanup()
    if cprofile_out is not None and cprofile_out.exists():
        print_cprofile(cprofile_out)
    return level


def print_cprofile(path: Path, top: int = 25) -> None:
    """The gateway's top functions by own time (cProfile roughly doubles the cost of Python
    calls: read it for where the time goes, not for CPU figures); also written beside `path`."""
    import io
    import pstats

    text = io.StringIO()
    stats = pstats.Stats(str(path), stream=text)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    body = text.getvalue()
    path.with_suffix(".txt").write_text(body)
    lines = body.splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    print(f"cProfile of the gateway ({path.with_suffix('.txt')}), top {top} by own time:")
    for line in lines[max(0, start - 2) : start + top + 1]:
        print(f"  {line}")


async def _sample_later(
    at: float, pid: int, gateway_port: int, live_port: int, seconds: float, nice: int
) -> dict[str, Any]:
    """The gateway's syscalls per leg for `seconds` from `at` (time.time(): every call up)."""
    await asyncio.sleep(max(0.0, at - time.time()))
    return await traffic.sample_syscalls(pid, gateway_port, live_port, seconds, nice)


# ------------------------------------------------------------------------------ reporting


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _ms(value: float | None, digits: int = 2) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def latency_cell(ended: Sequence[dict[str, Any]], prefix: str) -> str:
    """median per-call p50 / median per-call p99 / max per-call p99 (calls with samples)."""
    p50 = [float(r[f"{prefix}_p50_ms"]) for r in ended if r.get(f"{prefix}_p50_ms") is not None]
    p99 = [float(r[f"{prefix}_p99_ms"]) for r in ended if r.get(f"{prefix}_p99_ms") is not None]
    if not p99:
        return "-"
    return f"{_ms(_median(p50))} / {_ms(_median(p99))} / {_ms(max(p99))} ({len(p99)})"


def gateway_row(level: Level) -> list[str]:
    placed = level.placed
    ok = sum(1 for c in placed if c.get("ok"))
    problems = sum(1 for c in placed if not c.get("ok") or c.get("errors"))
    errors = problems + sum(v for k, v in level.gateway_log.items() if not k.startswith("warn"))
    utterances = sum(int(c.get("utterances", 0)) for c in placed)
    heard = sum(int(c.get("answered", 0)) for c in placed)
    every = sum(1 for c in placed if c.get("utterances") and c["answered"] == c["utterances"])
    barges = sum(int(c.get("barge_ins", 0)) for c in placed)
    cleared = sum(int(c.get("barge_ins_cleared", 0)) for c in placed)
    planned = sum(1 for c in placed if c.get("barge"))
    cpu = level.cpu_s.get("gateway", math.nan)
    per_minute = cpu / level.call_minutes if level.call_minutes else math.nan
    per_core = 60 / per_minute if per_minute > 0 else math.nan
    if level.variant.profile.continuous:  # no turns: how much of the caller's audio came back
        sent = sum(int(c.get("frames_sent") or 0) for c in placed)
        back = sum(int(c.get("frames_received") or 0) for c in placed)
        echoed = sum(
            1
            for c in placed
            if c.get("frames_sent") and c.get("frames_received", 0) >= 0.9 * c["frames_sent"]
        )
        share = _ms(100 * back / sent if sent else math.nan, 0)
        answered_cell = f"echo >= 90%: {echoed}/{level.calls} ({share}% of frames)"
        barge_cell = "- (none)"
    else:
        answered_cell = f"{every}/{level.calls} ({heard}/{utterances})"
        barge_cell = f"{cleared}/{barges} ({planned})"
    return [
        *variant_cells(level),
        f"{ok}/{level.calls}",
        str(errors),
        answered_cell,
        barge_cell,
        _ms(per_minute, 3),
        _ms(per_core, 0),
        latency_cell(level.ended, "uplink"),
        latency_cell(level.ended, "downlink"),
        latency_cell(level.ended, "clear"),
    ]


def load_row(level: Level) -> list[str]:
    def share(name: str) -> str:
        return f"{100 * level.cpu_s.get(name, math.nan) / level.window_s:.0f}%"

    lag_p99 = [float(p["p99"]) for p in level.pacing if p.get("p99") is not None]
    lag_max = [float(p["max"]) for p in level.pacing if p.get("max") is not None]
    lag_p50 = [float(p["p50"]) for p in level.pacing if p.get("p50") is not None]
    lag = (
        f"{_ms(_median(lag_p50))} / {_ms(max(lag_p99))} / {_ms(max(lag_max))}"
        if lag_p99 and lag_max
        else "not measured"
    )
    own = sum(
        level.cpu_s.get(k, 0.0) for k in ("gateway", "emulator", "callers", "bench", "interrupts")
    )
    other = level.cpu_s.get("machine", math.nan) - own
    return [
        *variant_cells(level),
        f"{level.window_s:.1f}",
        f"{level.load_1m:.2f}",
        share("gateway"),
        f"{100 * level.gateway_waited_s / level.window_s:.0f}%",
        share("emulator"),
        f"{share('callers')} (x{level.workers})",
        share("machine"),
        f"{100 * max(0.0, other) / level.window_s:.0f}%",
        lag,
    ]


def variant_cells(level: Level) -> list[str]:
    return [str(level.calls), level.variant.profile.name, "wss" if level.variant.tls else "ws"]


VARIANT_HEADER = ["N", "profile", "Live leg"]
GATEWAY_HEADER = [
    *VARIANT_HEADER,
    "calls ok",
    "errors",
    "every utterance answered: calls (utterances)",
    "barge-ins cleared/heard (interrupt calls)",
    "gateway CPU s per call-min",
    "calls/core at that cost",
    "uplink ms",
    "downlink ms",
    "interrupted->clear ms",
]
LOAD_HEADER = [
    *VARIANT_HEADER,
    "window s",
    "load 1m at start",
    "gateway CPU",
    "gateway waiting for a CPU",
    "emulator CPU",
    "callers CPU",
    "machine busy",
    "other work",
    "sim pacing lag ms p50 / p99 / max",
]


TRAFFIC_HEADER = [
    *VARIANT_HEADER,
    "msg carrier in",
    "msg carrier out",
    "msg Live in",
    "msg Live out",
    "msg all",
    "sys carrier in",
    "sys carrier out",
    "sys Live in",
    "sys Live out",
    "sys epoll",
    "sys other",
    "sys all",
    "/proc io r / w",
]


def _per_call_second(sample: dict[str, Any], key: str) -> str:
    return f"{float(sample[key]) / (float(sample['calls']) * float(sample['seconds'])):.1f}"


TRAFFIC_LEGEND = """\
Per call-second, from the gateway's side: carrier in = carrier -> gateway, carrier out =
gateway -> carrier, Live in = Live -> gateway, Live out = gateway -> Live. msg: WebSocket
messages, counted by the simulated carriers and the emulator over the whole level. sys: the
gateway's reads (in) and writes (out) on each leg's sockets, its epoll waits, the rest (other)
and all its syscalls, counted by `perf stat` in the kernel over {sample_s:g} s while every call
was up, divided by the calls up then ('-': not measured). /proc io r / w: the read- and
write-class syscalls the kernel accounts over the window (read(v)/write(v), so the socket I/O
under uvloop; asyncio's recv/send are not in them)."""


def traffic_row(level: Level) -> list[str]:
    """Messages and syscalls per call-second, per direction (bench/traffic.py)."""
    call_s = level.call_minutes * 60
    carrier_in = sum(int(p.get("messages", {}).get("sent", 0)) for p in level.pacing)
    carrier_out = sum(int(p.get("messages", {}).get("received", 0)) for p in level.pacing)
    live = level.live_messages
    counts = [carrier_in, carrier_out, live.get("sent"), live.get("received")]

    def rate(count: float | None, seconds: float) -> str:
        if count is None or not seconds or math.isnan(seconds):
            return "-"
        return f"{count / seconds:.1f}"

    known = [c for c in counts if c is not None]
    messages = [rate(c, call_s) for c in counts] + [
        rate(sum(known), call_s) if len(known) == 4 else "-"
    ]
    sample = level.syscalls
    if "error" in sample or not sample:
        syscalls = ["-"] * 7
    else:
        sample_call_s = float(sample["calls"]) * float(sample["seconds"])
        keys = ("carrier_in", "carrier_out", "live_in", "live_out", "epoll")
        other = float(sample["all"]) - sum(float(sample.get(k, 0)) for k in keys)
        syscalls = [rate(sample.get(k), sample_call_s) for k in keys]
        syscalls += [rate(other, sample_call_s), rate(float(sample["all"]), sample_call_s)]
    io = level.proc_io
    proc = (
        f"{rate(io['syscr'], call_s)} / {rate(io['syscw'], call_s)}"
        if "syscr" in io and "syscw" in io
        else "-"
    )
    return [*variant_cells(level), *messages, *syscalls, proc]


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def problems(level: Level) -> list[str]:
    """What went wrong in one level, for the lines under the tables."""
    notes: list[str] = []
    outcomes = Counter(str(c.get("outcome")) for c in level.placed if not c.get("ok"))
    if len(level.placed) < level.calls:
        notes.append(f"{level.calls - len(level.placed)} calls never reported")
    for outcome, count in outcomes.items():
        notes.append(f"{count} calls {outcome}")
    errors = Counter(e for c in level.placed for e in c.get("errors", []))
    notes += [f"simulator error x{count}: {error}" for error, count in errors.most_common(5)]
    notes += [f"gateway log x{count}: {key}" for key, count in level.gateway_log.most_common(8)]
    if len(level.ended) < len(level.placed):
        notes.append(f"only {len(level.ended)} call.ended lines for {len(level.placed)} calls")
    return notes


def machine_facts() -> list[str]:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                model = text.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return [
        f"machine: {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), {model}",
        f"python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.release()}",
        f"load average at start (1, 5, 15 min): {load}",
    ]


def closing_notes(levels: Sequence[Level], nice: int) -> list[str]:
    cores = os.cpu_count() or 1
    notes = [
        f"The emulator and the callers share this {cores}-core machine with the gateway (they run",
        f"at nice {nice}, the gateway at 0). When the busy processes outnumber the cores, the",
        "gateway's latency includes time it spent runnable but descheduled, and time waiting for",
        "a starved peer to read (its sends wait for socket writability).",
    ]
    if not levels:
        return notes
    top = max(levels, key=lambda level: level.calls)
    emulator = top.cpu_s.get("emulator", math.nan) / top.window_s
    gateway = top.cpu_s.get("gateway", math.nan) / top.window_s
    busy = top.cpu_s.get("machine", math.nan) / top.window_s
    for level in levels:
        lags = [float(p["p99"]) for p in level.pacing if p.get("p99") is not None]
        if lags and max(lags) > 1000:
            notes.append(
                f"At N={level.calls} {level.variant.label} the callers fell behind real time "
                f"(pacing lag p99 {max(lags):.0f} ms): the gateway was offered less than "
                f"{level.calls} real-time calls, in bursts, so that row's CPU per call-minute "
                "reads low and its latency is not a real-time measurement."
            )
        elif lags and max(lags) > 50:
            notes.append(
                f"At N={level.calls} {level.variant.label} the callers sent some frames late "
                f"(pacing lag p99 {max(lags):.0f} ms): the gateway got part of its input in "
                "bursts, which adds queueing to that row's p99."
            )
        utterances = sum(int(c.get("utterances", 0)) for c in level.placed)
        heard = sum(int(c.get("answered", 0)) for c in level.placed)
        if utterances and heard < 0.9 * utterances and not level.variant.profile.continuous:
            notes.append(
                f"At N={level.calls} {level.variant.label} only {heard}/{utterances} utterances "
                "were answered before the caller spoke again: the answers came late (the "
                "emulator and callers, at lower priority, fell behind), not necessarily lost by "
                "the gateway."
            )
    saturated = " (saturated)" if busy > 0.9 * cores else ""
    if emulator > 0.85:
        verdict = "near one core: it may be the bottleneck"
    elif saturated:
        verdict = f"held back by the saturated machine at nice {nice}, not by its own core"
    else:
        verdict = "one is enough"
    notes.append(
        f"At N={top.calls}: the gateway used {gateway:.0%} of one core (one Python thread "
        f"cannot use more than 100%), the emulator {emulator:.0%} ({verdict}), the machine "
        f"{busy:.0%} of {cores * 100}%{saturated}."
    )
    return notes


# ------------------------------------------------------------------------------ main


def env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError("expected NAME=VALUE")
    return name, value


def _counts(values: Sequence[str]) -> list[int]:
    counts = [int(part) for value in values for part in value.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("--calls takes positive integers")
    return counts


async def _main(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):  # also when started with SIGINT ignored
        loop.add_signal_handler(signum, task.cancel)
    levels: list[Level] = []
    runs = [(n, variant) for n in args.calls for variant in variants(args.profiles, args.tls)]
    for n, variant in runs:
        level = await run_level(n, args, variant)
        levels.append(level)
        row = dict(zip(GATEWAY_HEADER, gateway_row(level), strict=True))
        load = dict(zip(LOAD_HEADER, load_row(level), strict=True))
        wire = dict(zip(TRAFFIC_HEADER, traffic_row(level), strict=True))
        skip = len(VARIANT_HEADER)
        print(
            f"N={n} {variant.label}: " + "; ".join(f"{k} {v}" for k, v in list(row.items())[skip:])
        )
        print("  load: " + "; ".join(f"{k} {v}" for k, v in list(load.items())[skip:]))
        print(
            "  per call-second: " + "; ".join(f"{k} {v}" for k, v in list(wire.items())[skip:]),
            flush=True,
        )
        if "error" in level.syscalls:
            print(f"  syscalls per leg not measured: {level.syscalls['error']}", flush=True)
        elif level.syscalls:
            named = ", ".join(
                f"{name} {_per_call_second(level.syscalls, name)}" for name in traffic.OTHERS
            )
            print(
                f"  of the other syscalls, per call-second: {named} (sampled "
                f"{level.syscalls['seconds']:g} s with {level.syscalls['calls']} carrier and "
                f"{level.syscalls['live_sockets']} Live sockets open)",
                flush=True,
            )
        for note in problems(level):
            print(f"  {note}", flush=True)
        if args.json:
            data = [
                {**dataclasses.asdict(lv), "gateway_log": dict(lv.gateway_log)} for lv in levels
            ]
            args.json.write_text(json.dumps(data, indent=1))
    print()
    print("Gateway process (`gateway serve`). Latency columns are the gateway's own measurements")
    print("from its call.ended lines: median of per-call p50 / median of per-call p99 / max of")
    print("per-call p99 (calls with samples). calls/core = 60 / (CPU s per call-minute).")
    print(table(GATEWAY_HEADER, [gateway_row(level) for level in levels]))
    print()
    print("Load over the window (CPU as % of one core; 'other work' = machine busy minus the")
    print("gateway, emulator, callers and this process). Sim pacing lag: how late the simulated")
    print("carrier sent its 20 ms frames against their due times (all frames, all callers).")
    print("Gateway waiting for a CPU: share of the window its event loop was runnable but not")
    print("running (/proc/<pid>/schedstat run delay): time that shows up as latency.")
    print(table(LOAD_HEADER, [load_row(level) for level in levels]))
    print()
    for line in TRAFFIC_LEGEND.format(sample_s=args.syscall_sample_s).splitlines():
        print(line)
    print(table(TRAFFIC_HEADER, [traffic_row(level) for level in levels]))
    sampled = [level for level in levels if level.syscalls and "error" not in level.syscalls]
    if sampled:
        print("Of the other syscalls, per call-second (perf stat, same sample):")
        for level in sampled:
            named = ", ".join(
                f"{name} {_per_call_second(level.syscalls, name)}" for name in traffic.OTHERS
            )
            print(f"  N={level.calls} {level.variant.label}: {named}")
    print()
    for line in closing_notes(levels, args.nice):
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--calls",
        action="append",
        metavar="N[,N...]",
        help="concurrent calls per level (repeatable; default 10,50,100)",
    )
    parser.add_argument("--duration-s", type=float, default=20.0, help="length of every call")
    parser.add_argument(
        "--profiles",
        type=parse_profiles,
        default=parse_profiles("recorded"),
        metavar="NAME[,NAME]",
        help="call profiles (bench/call_profiles.py): recorded (default: pauses, turn-taking, "
        "barge-ins) and/or heavy (both parties talk all the time)",
    )
    parser.add_argument(
        "--tls",
        type=parse_tls,
        default=parse_tls("off"),
        metavar="off|on|both",
        help="Live leg over TLS (the emulator's --tls, trusted via GATEWAY_LIVE_CA_FILE); both: "
        "one row each",
    )
    parser.add_argument(
        "--syscall-sample-s",
        type=float,
        default=5.0,
        help="count the gateway's syscalls per leg with perf stat for this long while every "
        "call is up (0: not at all)",
    )
    parser.add_argument(
        "--interrupt-share",
        type=float,
        default=0.25,
        help="share of calls that start with the interrupt recording",
    )
    parser.add_argument(
        "--callers-per-worker", type=int, default=50, help="simulated callers per worker process"
    )
    parser.add_argument("--recordings", type=Path, default=RECORDINGS, help="WAV + JSON sidecars")
    parser.add_argument(
        "--nice",
        type=int,
        default=10,
        help="niceness of the emulator and caller processes (default 10: the gateway, at 0, "
        "gets the CPU first when they compete; 0 for equal shares)",
    )
    parser.add_argument(
        "--gateway-nice",
        type=int,
        default=0,
        help="niceness of the gateway (negative needs root: it then gets the CPU before other "
        "work on a shared machine, as a pod with a core of its own would)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="STEM",
        help="sample the gateway with py-spy over each window into "
        "STEM-N<calls>-<profile>-<ws|wss>.txt (collapsed stacks; py-spy is not a project "
        "dependency: pip install it yourself)",
    )
    parser.add_argument(
        "--cprofile",
        type=Path,
        metavar="STEM",
        help="run the gateway under cProfile (stdlib) and print its top functions by own time "
        "after each level (STEM-N<calls>-<profile>-<ws|wss>.prof and .txt); the CPU figures of "
        "such a run include cProfile's own overhead",
    )
    parser.add_argument("--json", type=Path, help="also write every call's raw facts here")
    parser.add_argument(
        "--gateway-env",
        action="append",
        type=env_pair,
        metavar="NAME=VALUE",
        help="extra environment for the gateway (repeatable), e.g. GATEWAY_EVENT_LOOP=asyncio",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main()
        return
    args.calls = _counts(args.calls or ["10,50,100"])
    _, source = load_pieces(args.recordings)
    for fact in machine_facts():
        print(fact)
    print(
        f"calls: {args.duration_s:.0f} s each at real time, starts spread over {RAMP_S:.0f} s; "
        f"{args.interrupt_share:.0%} of recorded-profile calls start with the interrupt "
        f"recording; caller audio: {source}"
    )
    modes = ", ".join(f"{p.name}: {p.emulator_mode} mode" for p in args.profiles)
    print(
        f"profiles: {', '.join(p.name for p in args.profiles)}; Live leg: "
        f"{' and '.join('wss (TLS)' if tls else 'ws' for tls in args.tls)}",
    )
    print(
        f"processes: gateway x1, emulator x1 ({modes}), "
        f"callers in workers of {args.callers_per_worker} calls, all on this machine; "
        f"emulator and callers at nice {args.nice}, the gateway at nice 0",
        flush=True,
    )
    try:
        asyncio.run(_main(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: every child process was stopped", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()

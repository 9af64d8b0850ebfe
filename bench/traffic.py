"""What a call costs on the wire: WebSocket messages and system calls per call-second, per leg.

Four directions, named from the gateway's side: carrier in (carrier -> gateway), carrier out
(gateway -> carrier), Live in (Live -> gateway), Live out (gateway -> Live).

* Messages: the carrier leg is counted by the simulated callers (every WebSocket message their
  connections send and receive: `install_message_probe`, in the worker processes only), the Live
  leg by the emulator (`messages_received` / `messages_sent` in its `emulator.stopped` line).
  Totals over the level, divided by the call-seconds placed.
* System calls: `perf stat` counts the gateway's syscall tracepoints for a few seconds while
  every call is up, in the kernel and without stopping the process (no ptrace). Reads
  (read/readv/recvfrom/recvmsg) and writes (write/writev/sendto/sendmsg) are split by socket:
  carrier sockets are the ones accepted on the gateway's port, Live sockets the ones connected
  to the emulator's port (from /proc/<pid>/fd and /proc/net/tcp at the start of the sample).
  Also counted: epoll waits, a few others by name (OTHERS) and every syscall of the process
  (`all`). Divided by the carrier
  sockets found (the calls up) times the sample's seconds. Needs `perf` and the right to trace
  (root, or kernel.perf_event_paranoid <= -1); otherwise the table says why not.
* /proc/<pid>/io `syscr`/`syscw` over the whole window: the read- and write-class syscalls the
  kernel accounts (read/readv/write/writev, so under uvloop, which uses those on sockets, nearly
  all socket I/O; asyncio's recv/send are not in them). Free, always measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "OTHERS",
    "READS",
    "WRITES",
    "install_message_probe",
    "proc_io",
    "sample_syscalls",
    "socket_fds",
]

OTHERS = ("getpid", "getrandom", "io_uring_enter", "futex")
"""Counted by name too: seen in `strace -c` of a busy gateway (Python 3.11's running-loop
check calls getpid, websockets masks each client frame with getrandom, libuv's io_uring)."""
READS = ("read", "readv", "recvfrom", "recvmsg")
WRITES = ("write", "writev", "sendto", "sendmsg")
LEGS = ("carrier", "live")


def install_message_probe(counts: dict[str, int]) -> bool:
    """Count every message the `websockets` client connections of this process send ("sent")
    and receive ("received"). Used in the caller workers, where the only connections are the
    simulated carriers' media streams."""
    try:
        from websockets.asyncio.client import ClientConnection
    except ImportError:  # pragma: no cover - websockets is a dependency
        return False
    counts.setdefault("sent", 0)
    counts.setdefault("received", 0)
    send: Callable[..., Any] = ClientConnection.send
    recv: Callable[..., Any] = ClientConnection.recv

    async def counted_send(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = await send(self, *args, **kwargs)
        counts["sent"] += 1
        return result

    async def counted_recv(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = await recv(self, *args, **kwargs)
        counts["received"] += 1
        return result

    ClientConnection.send = counted_send  # type: ignore[method-assign]
    ClientConnection.recv = counted_recv  # type: ignore[method-assign]
    return True


def proc_io(pid: int) -> dict[str, int]:
    """syscr and syscw of a process (/proc/<pid>/io; empty if unreadable)."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in {"syscr", "syscw"}:
                out[key] = int(value)
    return out


def _tcp_sockets() -> dict[int, tuple[int, int]]:
    """inode -> (local port, remote port) of every TCP socket in this network namespace."""
    sockets: dict[int, tuple[int, int]] = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(name).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) < 10:
                    continue
                local = int(fields[1].rsplit(":", 1)[1], 16)
                remote = int(fields[2].rsplit(":", 1)[1], 16)
                sockets[int(fields[9])] = (local, remote)
    return sockets


def socket_fds(pid: int, gateway_port: int, live_port: int) -> dict[str, list[int]]:
    """The process's fds per leg: "carrier" (accepted on `gateway_port`), "live" (connected to
    `live_port`)."""
    tcp = _tcp_sockets()
    legs: dict[str, list[int]] = {leg: [] for leg in LEGS}
    with contextlib.suppress(OSError):
        for entry in os.scandir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError, ValueError):
                target = os.readlink(entry.path)
                if not target.startswith("socket:["):
                    continue
                ports = tcp.get(int(target[8:-1]))
                if ports is None:
                    continue
                local, remote = ports
                if local == gateway_port and remote != 0:
                    legs["carrier"].append(int(entry.name))
                elif remote == live_port:
                    legs["live"].append(int(entry.name))
    return {leg: sorted(fds) for leg, fds in legs.items()}


def fd_filter(fds: Iterable[int]) -> str:
    """A tracepoint filter matching these fds, as ranges ('fd == 7 || (fd >= 9 && fd <= 40)')."""
    values = sorted(set(fds))
    ranges: list[tuple[int, int]] = []
    for fd in values:
        if ranges and fd == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], fd)
        else:
            ranges.append((fd, fd))
    return " || ".join(f"fd == {a}" if a == b else f"(fd >= {a} && fd <= {b})" for a, b in ranges)


def _events(legs: dict[str, list[int]]) -> list[tuple[str, list[str]]]:
    """(key, perf arguments) per counted event, in perf's output order."""
    events: list[tuple[str, list[str]]] = [
        ("all", ["-e", "raw_syscalls:sys_enter"]),
        ("epoll", ["-e", "syscalls:sys_enter_epoll_wait"]),
        ("epoll", ["-e", "syscalls:sys_enter_epoll_pwait"]),
        *((name, ["-e", f"syscalls:sys_enter_{name}"]) for name in OTHERS),
    ]
    for leg in LEGS:
        if not legs[leg]:  # nothing to count (and no valid filter for an empty set)
            continue
        where = fd_filter(legs[leg])
        for direction, names in (("in", READS), ("out", WRITES)):
            for name in names:
                key = f"{leg}_{direction}"
                events.append((key, ["-e", f"syscalls:sys_enter_{name}", "--filter", where]))
    return events


async def sample_syscalls(
    pid: int, gateway_port: int, live_port: int, seconds: float, nice: int
) -> dict[str, Any]:
    """Count the gateway's syscalls per leg for `seconds` (perf stat). Returns counts keyed
    carrier_in, carrier_out, live_in, live_out, epoll, the OTHERS by name, all, plus `calls`
    (carrier sockets) and `seconds`; or {"error": why} when it could not measure."""
    perf = shutil.which("perf")
    if perf is None:
        return {"error": "perf is not installed"}
    legs = socket_fds(pid, gateway_port, live_port)
    if not legs["carrier"]:
        return {"error": "no carrier socket found in the gateway"}
    events = _events(legs)
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "perf.csv"
        argv = [perf, "stat", "-x", ";", "-o", str(out), "-p", str(pid)]
        argv += [arg for _, args in events for arg in args]
        argv += ["--", "sleep", f"{seconds:g}"]
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )
        _, stderr = await process.communicate()
        text = out.read_text() if out.is_file() else ""
    rows = [line.split(";") for line in text.splitlines() if line and not line.startswith("#")]
    if process.returncode != 0 or len(rows) != len(events):
        why = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return {"error": f"perf stat failed ({process.returncode}): {why[0][:200]}"}
    counts: dict[str, Any] = {key: 0 for key, _ in events}
    # A leg without sockets has no count: the table says '-', not 0.
    for (key, _), row in zip(events, rows, strict=True):
        counts[key] += int(row[0]) if row[0].isdigit() else 0  # "<not counted>": none
    counts["calls"] = len(legs["carrier"])
    counts["live_sockets"] = len(legs["live"])
    counts["seconds"] = seconds
    return counts

"""`gateway serve --workers N`: N gateway processes behind one port, one event loop each.

One process runs one event loop on one core. To use more cores of one host, the supervisor
(this module, in the process the operator started) reserves the port with `SO_REUSEPORT`, then
starts N worker processes (`gateway serve --reuse-port` with the same settings and port), each
binding the port with `SO_REUSEPORT` too: the kernel spreads incoming connections over the
workers' listening sockets. The supervisor's own socket is bound but never listens, so it takes
no connection; it only keeps the port (and a port 0 resolved once for every worker).

Signals: the workers run in their own process group, so a terminal's Ctrl-C reaches the
supervisor alone; it passes each SIGTERM and SIGINT on to every worker once, and each worker
drains as a single `gateway serve` does (docs/operations.md). The supervisor exits when every
worker has, with the first non-zero exit status. A worker that exits on its own while the
supervisor is not stopping is logged (`gateway.worker_exited`) and started again, unless it
failed to start (configuration error or the port), which stops them all.

What is per process: each worker has its own calls, admission limit (GATEWAY_MAX_CALLS per
worker), single-use token memory and pre-warmed sessions. The kernel gives a call's webhook and
its media stream (two connections) to any worker, so: stream tokens verify in every worker only
with one signing key (when GATEWAY_SECRET is unset, the supervisor gives all workers one random
key); pre-warming is off unless GATEWAY_PREWARM_HOLD_S is set; and the worker that answered a
webhook counts that call as awaiting its stream until its token expires (60 s) when the stream
went to another worker: its admission load reads high by those calls and its drain waits for
them. Cluster mode (GATEWAY_REDIS_URL) shares token use and admission across processes.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

from gateway.log import get_logger

__all__ = ["FATAL_EXITS", "reserve_port", "run_workers", "worker_command", "worker_env"]

_log = get_logger(component="workers")
FATAL_EXITS = (2, 3)
"""Worker exit statuses that stop the supervisor: a configuration error, cannot listen."""
POLL_S = 0.2
RESTART_DELAY_S = 1.0


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) with SO_REUSEPORT that never listens: it keeps the port
    (resolving port 0 once) while the workers bind it too. OSError when it cannot be bound."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def run_workers(worker_argv: Sequence[str], workers: int, env: dict[str, str]) -> int:
    """Run `workers` copies of `worker_argv` until they have all exited; the exit status.

    `worker_argv` is a whole command line (`python -m gateway serve --reuse-port --port P ...`);
    `env` the workers' environment."""
    stopping = False
    children: list[subprocess.Popen[bytes] | None] = [None] * workers
    restart_at: list[float] = [0.0] * workers
    statuses: list[int] = []

    def spawn(index: int) -> None:
        child = subprocess.Popen(list(worker_argv), env=env, start_new_session=True)
        children[index] = child
        _log.info("gateway.worker_started", worker=index, pid=child.pid)

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child is not None and child.poll() is None:
                child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for index in range(workers):
            spawn(index)
        while True:
            running = 0
            for index, child in enumerate(children):
                if child is None:
                    if not stopping and time.monotonic() >= restart_at[index]:
                        spawn(index)
                        running += 1
                    continue
                status = child.poll()
                if status is None:
                    running += 1
                    continue
                children[index] = None
                statuses.append(status)
                if stopping:
                    continue
                _log.warning("gateway.worker_exited", worker=index, exit_status=status)
                if status in FATAL_EXITS:
                    forward(signal.SIGTERM, None)
                else:
                    restart_at[index] = time.monotonic() + RESTART_DELAY_S
                    running += 1
            if running == 0:
                break
            time.sleep(POLL_S)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for child in children:  # never leave a worker behind
            if child is not None and child.poll() is None:
                child.kill()
                child.wait()
    return next((status for status in statuses if status != 0), 0)


def worker_command(env_file: str, host: str, port: int, python: str = sys.executable) -> list[str]:
    """A worker's command line: this gateway, serving with SO_REUSEPORT on the resolved port."""
    return [
        python,
        "-m",
        "gateway",
        "serve",
        "--env-file",
        env_file,
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
        "--reuse-port",
    ]


def worker_env(*, secret_generated: bool, prewarm_default: bool) -> dict[str, str]:
    """The workers' environment: this one, with one GATEWAY_SECRET for all (a random one when
    none is configured), so a stream token signed by one worker verifies in every other; and
    pre-warming off unless configured (`prewarm_default`: GATEWAY_PREWARM_HOLD_S was left at
    its default): the kernel gives a call's webhook and its stream to any worker, so a session
    pre-warmed by one worker would mostly wait for a stream that another worker takes."""
    env = dict(os.environ)
    if prewarm_default:
        env["GATEWAY_PREWARM_HOLD_S"] = "0"
        _log.info(
            "gateway.workers_prewarm_off",
            message="pre-warming is off with several workers (a webhook and its stream may "
            "reach different workers); set GATEWAY_PREWARM_HOLD_S to keep it",
        )
    if not secret_generated:
        return env
    _log.warning(
        "gateway.workers_secret_generated",
        message="GATEWAY_SECRET is not set: the workers share one random key for this run, so "
        "stream tokens verify in every worker (set it for replicas on other hosts).",
    )
    return dict(env, GATEWAY_SECRET=secrets.token_hex(32))

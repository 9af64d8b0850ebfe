"""The real `gateway serve` as a child process: start it, wait until it answers, stop it.

Shared by the process-level end-to-end tests (JSON logs, secrets, SIGTERM drain).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

STOP_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class GatewayProcess:
    """A running `gateway serve`; its stdout and stderr are read as they come (a DEBUG run
    writes more than a pipe holds, and a full pipe would stall the process)."""

    def __init__(self, base_url: str, process: asyncio.subprocess.Process) -> None:
        self.base_url = base_url
        self.process = process
        self._out = bytearray()
        self._err = bytearray()
        assert process.stdout is not None
        assert process.stderr is not None
        self._readers = [
            asyncio.create_task(_drain(process.stdout, self._out)),
            asyncio.create_task(_drain(process.stderr, self._err)),
        ]

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.process.send_signal(signum)

    @property
    def stdout(self) -> str:
        """What it wrote to stdout so far."""
        return self._out.decode()

    async def stop(self) -> tuple[int, str, str]:
        """SIGTERM, then wait for the exit: (status, stdout, stderr)."""
        self.signal(signal.SIGTERM)
        return await self.exited()

    async def exited(self) -> tuple[int, str, str]:
        """Wait for the process to exit by itself: (status, stdout, stderr)."""
        status = await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_S)
        await asyncio.wait_for(asyncio.gather(*self._readers), STOP_TIMEOUT_S)
        return status, self._out.decode(), self._err.decode()

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        for reader in self._readers:
            reader.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


async def _drain(stream: asyncio.StreamReader, into: bytearray) -> None:
    while chunk := await stream.read(1 << 16):
        into += chunk


@asynccontextmanager
async def gateway_process(env: Mapping[str, str], cwd: Path) -> AsyncIterator[GatewayProcess]:
    """`python -m gateway serve` on a free loopback port with `env` (and none of ours) once
    `/healthz` answers. Killed on the way out if still running."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "TWILIO_"))}
    environ.pop("GEMINI_API_KEY", None)
    environ.update({"LOG_FORMAT": "json", "LOG_LEVEL": "INFO", **env})
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "serve", "--host", "127.0.0.1", "--port", str(port),
        env=environ, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    gateway = GatewayProcess(f"http://127.0.0.1:{port}", process)
    try:
        async with httpx.AsyncClient() as client, asyncio.timeout(30):
            while True:
                try:
                    if (await client.get(f"{gateway.base_url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        yield gateway
    finally:
        await gateway.kill()


def json_lines(stdout: str) -> list[dict[str, Any]]:
    """Every stdout line is one JSON object (nothing else may go to stdout)."""
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


async def wait_for_health(base_url: str, predicate: Any, timeout_s: float = 30.0) -> Any:
    """Poll `/healthz` until `predicate(body)` holds (a condition, not a timing); returns it."""
    async with httpx.AsyncClient() as client, asyncio.timeout(timeout_s):
        while True:
            body = (await client.get(f"{base_url}/healthz")).json()
            if predicate(body):
                return body
            await asyncio.sleep(0.05)

"""How much the first outbound HTTP request of a process costs, and what the warm-up saves.

Each measurement runs in a fresh Python process (the costs are per process), against a local
HTTP server in another process, with the gateway's own client settings:

* `cold`: the first GET of the process, then the second and third;
* `warmed elsewhere`: one request to a different local server first (process-level
  initialisation paid, no connection to the target), then the first GET to the target;
* `warmed`: `gateway.shell.warmup.warm_up` with the target's origin first, as start-up does (a
  loopback request through the client and the host resolved; no request to the target), then
  the first GET.

    python bench/first_request.py [--runs 7]

Prints the median and range of each, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager

_SERVER = textwrap.dedent(
    """
    import asyncio, sys
    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\\r\\n\\r\\n")
                body = b"" if head.startswith(b"HEAD") else b"ok"
                writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()
    try:
        asyncio.run(main())
    except Exception:
        pass
    """
)

_CLIENT = textwrap.dedent(
    """
    import asyncio, json, sys, time
    import httpx
    from gateway.shell import services  # the gateway's imports, as at start-up
    from gateway.shell.warmup import warm_up
    mode, target, other = sys.argv[1], sys.argv[2], sys.argv[3]

    async def main():
        client = httpx.AsyncClient(limits=services._HTTP_LIMITS, follow_redirects=False)
        if mode == "warmed elsewhere":
            async with httpx.AsyncClient() as throwaway:
                await throwaway.get(other + "/")
        elif mode == "warmed":
            await warm_up(client, [target])
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            (await client.get(target + "/x")).raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
        await client.aclose()
        print(json.dumps(timings))

    import logging
    logging.disable(logging.CRITICAL)
    import structlog
    structlog.configure(logger_factory=structlog.ReturnLoggerFactory())
    asyncio.run(main())
    """
)

MODES = ("cold", "warmed elsewhere", "warmed")


@contextmanager
def _server() -> Iterator[str]:
    process = subprocess.Popen([sys.executable, "-c", _SERVER], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    port = int(process.stdout.readline())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\\n\\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    results: dict[str, list[list[float]]] = {mode: [] for mode in MODES}
    with _server() as target, _server() as other:
        for _ in range(args.runs):
            for mode in MODES:
                done = subprocess.run(
                    [sys.executable, "-c", _CLIENT, mode, target, other],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                results[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
                time.sleep(0.05)
    print(f"first three GETs of a process, ms (median [min-max] of {args.runs} processes)")
    for mode, runs in results.items():
        cells = []
        for i in range(3):
            values = [run[i] for run in runs]
            cells.append(f"{statistics.median(values):6.2f} [{min(values):.2f}-{max(values):.2f}]")
        print(f"  {mode:22s} " + "  ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

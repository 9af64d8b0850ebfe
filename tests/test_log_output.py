"""Every line a process configured by `gateway.log.configure` writes is JSON, on both streams:
our lines, library (stdlib) lines, Python warnings, asyncio's lost task exceptions, unraisable
and uncaught exceptions; secrets masked in all of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "registered-secret-0123456789"

SCRIPT = textwrap.dedent(
    f"""
    import asyncio, gc, logging, warnings
    from gateway.log import configure, get_logger, register_secret
    configure("INFO", "json")
    register_secret({SECRET!r})
    get_logger(component="test").info("ours.line", detail="has {SECRET}")
    logging.getLogger("uvicorn.error").error("[Errno 98] address in use; x-goog-api-key: abc123")
    logging.getLogger("websockets.server").info("server listening on 127.0.0.1:1")
    warnings.warn("a deprecated thing", DeprecationWarning, stacklevel=1)

    async def lost():
        raise RuntimeError("lost task {SECRET}")

    async def main():
        task = asyncio.ensure_future(lost())
        await asyncio.sleep(0.01)
        del task

    asyncio.run(main())
    gc.collect()

    class Broken:
        def __del__(self):
            raise ValueError("in __del__")

    Broken()
    gc.collect()
    raise KeyError("uncaught")
    """
)


def test_every_line_on_both_streams_is_json_with_secrets_masked() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "default"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 1  # the uncaught exception
    out = [json.loads(line) for line in done.stdout.splitlines()]
    err = [json.loads(line) for line in done.stderr.splitlines()]
    assert [line["event"] for line in out] == ["ours.line"]
    assert out[0]["detail"] == "has ***"
    by_logger: dict[str, list[dict[str, object]]] = {}
    for line in err:
        by_logger.setdefault(str(line.get("logger")), []).append(line)
    assert set(by_logger) == {"uvicorn.error", "websockets.server", "py.warnings", "asyncio",
                              "gateway"}  # fmt: skip
    assert by_logger["uvicorn.error"][0]["event"] == (
        "[Errno 98] address in use; x-goog-api-key: ***"
    )
    assert "a deprecated thing" in str(by_logger["py.warnings"][0]["event"])
    lost = by_logger["asyncio"][0]
    assert str(lost["event"]).startswith("Task exception was never retrieved")
    assert "RuntimeError: lost task ***" in str(lost["exception"])
    hooks = {str(line["event"]): line for line in by_logger["gateway"]}
    uncaught = hooks["process.uncaught_exception"]
    assert uncaught["level"] == "critical"
    assert "KeyError: 'uncaught'" in str(uncaught["exception"])
    unraisable = [line for line in by_logger["gateway"] if "Broken" in str(line["event"])]
    assert len(unraisable) == 1
    assert "ValueError: in __del__" in str(unraisable[0]["exception"])
    assert SECRET not in done.stdout + done.stderr

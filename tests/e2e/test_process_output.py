"""What the real `gateway serve` process prints and how it exits: every line on stdout and stderr
is JSON (start-up, a port in use, configuration errors), configuration errors are one line and
exit 2, a port in use is one `gateway.start_failed` line and exit 3, and SIGTERM drains and stops
the process even when its output pipe is closed (`gateway serve 2>&1 | head`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.process import free_port, gateway_process, json_lines

SECRET = "a-secret-value-0123456789"


def _run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "TWILIO_"))}
    environ.pop("GEMINI_API_KEY", None)
    environ.update({"LOG_FORMAT": "json", "LOG_LEVEL": "INFO", **env})
    return subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--host", "127.0.0.1", *args],
        env=environ, cwd=cwd, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _every_line_json(*streams: str) -> list[dict[str, Any]]:
    lines = [line for stream in streams for line in stream.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


def test_a_port_in_use_is_one_json_line_and_exit_3(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _run({}, tmp_path, "--port", str(port))
    assert done.returncode == 3
    lines = _every_line_json(done.stdout, done.stderr)
    failed = [line for line in lines if line["event"] == "gateway.start_failed"]
    assert len(failed) == 1
    assert failed[0]["level"] == "error"
    assert failed[0]["reason"] == "port in use"
    assert failed[0]["port"] == port
    assert failed[0]["exit_status"] == 3
    assert failed[0] == lines[-1]


def test_configuration_errors_are_one_json_line_and_exit_2(tmp_path: Path) -> None:
    cases = {
        "live url": ({"GATEWAY_LIVE_URL": "http://127.0.0.1:9100/live"}, None),
        "env line": ({}, f"GATEWAY_MODEL=x\n{SECRET}\n"),
        "env quote": ({}, f'TWILIO_AUTH_TOKEN="{SECRET}\n'),
        "event loop": ({"GATEWAY_EVENT_LOOP": "fastest"}, None),
    }
    for name, (env, dotenv) in cases.items():
        (tmp_path / ".env").unlink(missing_ok=True)
        if dotenv is not None:
            (tmp_path / ".env").write_text(dotenv, encoding="utf-8")
        done = _run(env, tmp_path, "--port", str(free_port()))
        assert done.returncode == 2, name
        lines = _every_line_json(done.stdout, done.stderr)
        assert len(lines) == 1, (name, lines)
        assert lines[0]["event"] == "config.invalid"
        assert lines[0]["level"] == "error"
        assert lines[0]["exit_status"] == 2
        assert SECRET not in done.stdout + done.stderr


async def test_every_line_is_json_and_start_up_says_what_it_talks_to(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("GATEWAY_MAX_CALL=5\n", encoding="utf-8")
    env = {
        "GATEWAY_PUBLIC_URL": "https://voice.example.com",
        "GATEWAY_UNSIGNED_CARRIERS": "plivo",
        "TELNYX_PUBLIC_KEY": "A" * 43 + "=",  # base64 of 32 bytes
        "GATEWAY_MODEL": "gemini-9.9-imaginary",
    }
    async with gateway_process(env, tmp_path) as gateway:
        async with httpx.AsyncClient() as client:
            await client.get(f"{gateway.base_url}/nope")
        code, stdout, stderr = await gateway.stop()
    assert code == 0
    lines = _every_line_json(stdout, stderr)
    by_event = {line["event"]: line for line in lines}
    configured = by_event["gateway.configured"]
    assert configured["level"] == "warning"  # the model no backend knows
    assert configured["backend"] == "embedded emulator"
    assert configured["unknown_models"] == ["gemini-9.9-imaginary"]
    assert configured["models"] == {"default": "gemini-9.9-imaginary"}
    assert configured["public_url"] == "https://voice.example.com"
    # The embedded emulator's development setup takes every carrier without its secret unsigned.
    assert configured["carriers"] == {
        "twilio": "unsigned",
        "telnyx": "signed",
        "plivo": "unsigned",
        "signalwire": "unsigned",
        "vonage": "unsigned",
        "exotel": "unsigned",
    }
    suspicious = by_event["settings.suspicious"]
    assert suspicious["variable"] == "GATEWAY_MAX_CALL"
    assert suspicious["did_you_mean"] == "GATEWAY_MAX_CALLS"
    # uvicorn's and websockets' own lines (start-up, shutdown) are JSON too, on stderr.
    library = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert {line["logger"] for line in library} == {"uvicorn.error", "websockets.server"}
    assert "Application startup complete." in {line["event"] for line in library}


async def test_sigterm_drains_and_stops_when_the_output_pipe_is_closed(tmp_path: Path) -> None:
    """`gateway serve 2>&1 | head`: head has exited, every write fails with EPIPE."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "TWILIO_"))}
    environ.pop("GEMINI_API_KEY", None)
    environ.update({"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"})
    read_end, write_end = os.pipe()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "serve", "--host", "127.0.0.1", "--port", str(port),
        env=environ, cwd=tmp_path, stdout=write_end, stderr=write_end,
    )  # fmt: skip
    os.close(write_end)
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            async with asyncio.timeout(30):
                while True:
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get(f"{base_url}/readyz")).status_code == 200:
                            break
                    await asyncio.sleep(0.1)
            os.close(read_end)  # the reader is gone: the next line written hits a broken pipe
            read_end = -1
            await client.get(f"{base_url}/healthz")
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 30)
    finally:
        if read_end >= 0:
            os.close(read_end)
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert code == 0


def test_json_lines_helper_is_strict() -> None:
    """The tests above rely on json.loads failing on plain text lines."""
    assert json_lines('{"event": "x"}\n') == [{"event": "x"}]
    try:
        _every_line_json("INFO:     Uvicorn running on http://127.0.0.1:8080")
    except json.JSONDecodeError:
        return
    raise AssertionError("a plain line parsed as JSON")

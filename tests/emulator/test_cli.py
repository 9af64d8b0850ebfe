"""`gateway emulator`: options, and the real command serving over TLS until SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import ssl
import sys
from pathlib import Path

from websockets.asyncio.client import connect

from gateway.cli import _build_parser
from gateway.emulator.cli import config_from_args, run_emulator
from gateway.emulator.config import Backend, EmulatorConfig, ReplyMode
from gateway.live.protocol import encode_setup
from gateway.live.setup import LiveConfig


def test_options_map_to_the_config() -> None:
    args = _build_parser().parse_args(
        [
            "emulator",
            "--port",
            "0",
            "--cert",
            "c.pem",
            "--key",
            "k.pem",
            "--lifetime-s",
            "60",
            "--go-away-lead-s",
            "5",
            "--speed",
            "10",
            "--mode",
            "tone",
            "--api-key",
            "a",
            "--api-key",
            "b",
        ]
    )
    assert config_from_args(args) == EmulatorConfig(
        port=0,
        tls=True,
        certfile=Path("c.pem"),
        keyfile=Path("k.pem"),
        connection_lifetime_s=60.0,
        go_away_lead_s=5.0,
        speed=10.0,
        mode=ReplyMode.TONE,
        api_keys=frozenset({"a", "b"}),
        keep_audio=False,
        keep_messages=False,
    )


def test_backend_options() -> None:
    args = _build_parser().parse_args(["emulator", "--backend", "vertex", "--vertex-call-ids"])
    config = config_from_args(args)
    assert (config.backend, config.vertex_call_ids) == (Backend.VERTEX, True)
    default = config_from_args(_build_parser().parse_args(["emulator"]))
    assert (default.backend, default.vertex_call_ids) == (Backend.DEVELOPER, False)


def test_bad_configuration_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    args = _build_parser().parse_args(["emulator", "--scenario", str(missing)])
    assert run_emulator(args) == 2
    args = _build_parser().parse_args(["emulator", "--speed", "0"])
    assert run_emulator(args) == 2


def test_the_command_serves_tls_until_sigterm(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"

    async def body() -> int:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway",
            "emulator",
            "--port",
            "0",
            "--tls",
            "--cert-out",
            str(cert),
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "LOG_FORMAT": "json"},
        )
        assert process.stdout is not None
        try:
            async with asyncio.timeout(60):
                while True:
                    line = json.loads(await process.stdout.readline())
                    if line["event"] == "emulator.ready":
                        break
            assert line["url"].startswith("wss://127.0.0.1:")
            context = ssl.create_default_context(cafile=str(cert))
            async with connect(line["url"], ssl=context) as ws:
                await ws.send(encode_setup(LiveConfig()))
                assert await ws.recv() == b'{"setupComplete":{}}'
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                await process.stdout.read()
                return await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

    assert asyncio.run(body()) == 0

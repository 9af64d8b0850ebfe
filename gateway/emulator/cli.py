"""`gateway emulator`: run the Live emulator on its own until interrupted (options: gateway.cli)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path

from gateway.emulator.config import Backend, EmulatorConfig, ReplyMode
from gateway.emulator.scenario import Scenario, ScenarioError
from gateway.emulator.server import LiveEmulator
from gateway.log import get_logger

__all__ = ["config_from_args", "run_emulator"]


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        host=args.host,
        port=args.port,
        tls=args.tls or args.cert is not None,
        certfile=Path(args.cert) if args.cert else None,
        keyfile=Path(args.key) if args.key else None,
        connection_lifetime_s=args.lifetime_s,
        go_away_lead_s=args.go_away_lead_s,
        speed=args.speed,
        mode=ReplyMode(args.mode),
        api_keys=frozenset(args.api_key) if args.api_key else None,
        backend=Backend(args.backend),
        vertex_call_ids=args.vertex_call_ids,
        keep_audio=False,  # a long-running emulator must not grow without bound
        keep_messages=False,
    )


async def _serve(emulator: LiveEmulator, cert_out: Path | None) -> None:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, task.cancel)
    await emulator.start()
    try:
        if cert_out is not None and emulator.cert_pem is not None:
            await asyncio.to_thread(cert_out.write_bytes, emulator.cert_pem)
        get_logger(component="emulator").info(
            "emulator.ready",
            url=emulator.url,
            backend=emulator.config.backend.value,
            plain_url=emulator.plain_url,
            sdk_base_url=emulator.base_url,
            cert_file=str(cert_out) if cert_out else None,
        )
        await asyncio.Future()
    finally:
        await emulator.stop()


def run_emulator(args: argparse.Namespace) -> int:
    """Run until SIGINT/SIGTERM; exit status 0, or 2 for a bad configuration."""
    log = get_logger(component="emulator")
    try:
        config = config_from_args(args)
        scenario = Scenario.load(args.scenario) if args.scenario else Scenario()
    except (ValueError, OSError, ScenarioError) as exc:
        log.error("emulator.bad_config", error=str(exc))
        return 2
    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        cert_out = Path(args.cert_out) if args.cert_out else None
        asyncio.run(_serve(LiveEmulator(config, scenario), cert_out))
    return 0

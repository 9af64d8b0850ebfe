"""Command line: `gateway <command>` (also `python -m gateway <command>`).

Each command is a function `run_<name>(args) -> int` registered in `_build_parser`; commands import
their heavy modules lazily so `gateway --help` stays fast.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from gateway import __version__
from gateway.log import configure

if TYPE_CHECKING:
    import asyncio

    from gateway.settings import Settings

Command = Callable[[argparse.Namespace], int]
EXIT_CONFIG = 2
"""`gateway serve`'s exit status for a configuration error (one `config.invalid` line); 3
(`gateway.shell.serve.EXIT_START_FAILED`) when it cannot listen."""


def _run_audio_report(args: argparse.Namespace) -> int:
    from gateway.audio_report import print_report

    print_report(linear_phase=args.linear_phase)
    return 0


def _run_emulator(args: argparse.Namespace) -> int:
    from gateway.emulator.cli import run_emulator

    return run_emulator(args)


def _run_serve(args: argparse.Namespace) -> int:
    import asyncio
    import contextlib
    import signal

    from gateway.log import get_logger
    from gateway.settings import SettingsError, load_settings
    from gateway.shell.serve import EXIT_START_FAILED, StartError, serve

    log = get_logger(component="serve")
    try:
        settings = load_settings(env_file=args.env_file)
        loop_factory = _loop_factory(settings.server.event_loop)
    except SettingsError as exc:
        log.error("config.invalid", error=str(exc), exit_status=EXIT_CONFIG)
        return EXIT_CONFIG
    for warning in settings.env_warnings:
        log.warning("settings.suspicious", **warning.fields())
    if args.host or args.port is not None:
        from dataclasses import replace

        server = replace(
            settings.server,
            host=args.host or settings.server.host,
            port=settings.server.port if args.port is None else args.port,
        )
        settings = replace(settings, server=server)
    workers = args.workers if args.workers is not None else settings.server.workers
    if workers < 1:
        log.error("config.invalid", error="--workers must be at least 1", exit_status=EXIT_CONFIG)
        return EXIT_CONFIG
    if workers > 1 and not args.reuse_port:
        return _run_workers(args, settings.server.host, settings.server.port, workers, settings)
    # The server drains on SIGTERM (gateway.shell.serve.GatewayServer). A SIGTERM that reaches
    # uvicorn's own handler instead (before start-up finished) is re-raised once uvicorn has shut
    # down; this no-op handler makes that re-raise a clean exit with status 0.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    from gateway.agents.loader import ProfilesFileError
    from gateway.agents.prices import PricesFileError
    from gateway.shell.hold_audio import HoldAudioError
    from gateway.tools.config import ToolsFileError

    try:
        with (
            contextlib.suppress(KeyboardInterrupt),
            asyncio.Runner(loop_factory=loop_factory) as runner,
        ):
            runner.run(serve(settings, reuse_port=args.reuse_port))
    except (ToolsFileError, ProfilesFileError, PricesFileError, HoldAudioError) as exc:
        # A bad tools, profiles, prices or hold audio file: one clear line naming it.
        log.error("config.invalid", error=str(exc), exit_status=EXIT_CONFIG)
        return EXIT_CONFIG
    except StartError:  # already logged as gateway.start_failed
        return EXIT_START_FAILED
    return 0


def _run_workers(
    args: argparse.Namespace, host: str, port: int, workers: int, settings: Settings
) -> int:
    """`gateway serve --workers N` (N > 1): the supervisor of N workers sharing the port."""
    from gateway.log import get_logger
    from gateway.settings import ServerSettings
    from gateway.shell.serve import EXIT_START_FAILED
    from gateway.shell.workers import reserve_port, run_workers, worker_command, worker_env

    log = get_logger(component="serve")
    try:
        sock = reserve_port(host, port)
    except OSError as exc:
        log.error(
            "gateway.start_failed",
            reason="cannot reserve the port for the workers",
            host=host,
            port=port,
            error=exc.strerror or str(exc),
            exit_status=EXIT_START_FAILED,
        )
        return EXIT_START_FAILED
    try:
        port = sock.getsockname()[1]
        log.info("gateway.workers_starting", workers=workers, host=host, port=port)
        prewarm_default = settings.server.prewarm_hold_s == ServerSettings().prewarm_hold_s
        env = worker_env(
            secret_generated=settings.server.secret_generated, prewarm_default=prewarm_default
        )
        status = run_workers(worker_command(args.env_file, host, port), workers, env)
    finally:
        sock.close()
    log.info("gateway.workers_stopped", exit_status=status)
    return status


def _loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """GATEWAY_EVENT_LOOP: uvloop's loop (`uvloop`, or `auto` when it is installed) or asyncio's."""
    if choice == "asyncio":
        return None
    try:
        import uvloop  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        if choice == "uvloop":
            from gateway.settings import SettingsError

            raise SettingsError("GATEWAY_EVENT_LOOP=uvloop but uvloop is not installed") from None
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def _run_call(args: argparse.Namespace) -> int:
    from gateway.sim.cli import run_call

    return run_call(args)


def _run_dial(args: argparse.Namespace) -> int:
    import asyncio
    import sys
    from pathlib import Path

    from gateway.outbound.campaign import CampaignRow, parse_rate, parse_variables, read_rows
    from gateway.shell.dial_client import run_campaign

    api_key = args.api_key or os.environ.get("GATEWAY_API_KEY")
    if not api_key:
        print("gateway dial needs GATEWAY_API_KEY (or --api-key)", file=sys.stderr)
        return EXIT_CONFIG
    try:
        rate = parse_rate(args.rate)
        variables = parse_variables(args.var or [])
        defaults: dict[str, object] = {"variables": variables}
        for key, value in (
            ("from", args.from_number),
            ("profile", args.profile),
            ("carrier", args.carrier),
            ("machine_detection", args.machine_detection),
        ):
            if value:
                defaults[key] = value
        if args.csv:
            rows = read_rows(Path(args.csv).read_text(encoding="utf-8"), defaults)
        elif args.to:
            rows = [CampaignRow(0, {**defaults, "to": args.to})]
        else:
            print("gateway dial needs a number or --csv FILE", file=sys.stderr)
            return EXIT_CONFIG
    except (ValueError, OSError) as exc:
        print(f"gateway dial: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    outcomes = asyncio.run(run_campaign(args.url, api_key, rows, rate))
    return 0 if outcomes.get("failed", 0) == 0 else 1


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description=__doc__)
    parser.add_argument("--version", action="version", version=f"gateway {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve",
        help="run the gateway (the embedded Live emulator answers when no API key is set)",
    )
    serve.add_argument("--host", help="listen address (default GATEWAY_HOST or 0.0.0.0)")
    serve.add_argument("--port", type=int, help="listen port (default GATEWAY_PORT or 8080)")
    serve.add_argument("--env-file", default=".env", help="dotenv file to read (default .env)")
    serve.add_argument(
        "--workers",
        type=int,
        help="processes sharing the port, one core each (default GATEWAY_WORKERS or 1)",
    )
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(func=_run_serve)

    from gateway.sim.cli import add_call_arguments

    call = sub.add_parser(
        "call",
        help="place a simulated carrier call against a running gateway from an audio file",
    )
    add_call_arguments(call)
    call.set_defaults(func=_run_call)

    dial = sub.add_parser(
        "dial",
        help="place outbound calls through a running gateway's API (one number, or --csv)",
    )
    dial.add_argument("to", nargs="?", help="the number to call (E.164)")
    dial.add_argument("--csv", help="a list: one row per call, a `to` column, others variables")
    dial.add_argument("--from", dest="from_number", help="the caller id (E.164)")
    dial.add_argument("--profile", help="the agent profile")
    dial.add_argument("--carrier", help="the carrier to dial through")
    dial.add_argument("--var", action="append", help="a variable, name=value (repeatable)")
    dial.add_argument(
        "--machine-detection", choices=["off", "hang_up", "leave_voicemail"], default=None
    )
    dial.add_argument("--rate", default="1/s", help="calls started per second (1/s, 30/m)")
    dial.add_argument(
        "--url", default="http://127.0.0.1:8080", help="the gateway's base URL (its API)"
    )
    dial.add_argument("--api-key", help="default: GATEWAY_API_KEY")
    dial.set_defaults(func=_run_dial)

    report = sub.add_parser(
        "audio-report",
        help="measure the audio paths (ripple, aliasing, THD+N, delay, cost) and print a table",
    )
    report.add_argument("--linear-phase", action="store_true", help="measure linear-phase filters")
    report.set_defaults(func=_run_audio_report)

    emulator = sub.add_parser(
        "emulator",
        help="run the Gemini Live emulator (TLS optional, so the official SDK can talk to it)",
    )
    emulator.add_argument("--host", default="127.0.0.1", help="listen address")
    emulator.add_argument("--port", type=int, default=9100, help="listen port (0: any free port)")
    emulator.add_argument("--tls", action="store_true", help="serve wss:// (self-signed)")
    emulator.add_argument("--cert", help="TLS certificate PEM (implies --tls)")
    emulator.add_argument("--key", help="TLS private key PEM (with --cert)")
    emulator.add_argument("--cert-out", help="write the generated certificate here")
    emulator.add_argument("--lifetime-s", type=float, default=600.0, help="connection lifetime")
    emulator.add_argument("--go-away-lead-s", type=float, default=50.0, help="goAway lead time")
    emulator.add_argument("--speed", type=float, default=1.0, help="emulated seconds per second")
    emulator.add_argument(
        "--mode",
        choices=["echo", "tone", "stream"],
        default="echo",
        help="how it answers (stream: every audio chunk echoed at once, no turn-taking)",
    )
    emulator.add_argument("--scenario", help="scenario file (TOML or JSON)")
    emulator.add_argument("--api-key", action="append", help="accept only this key (repeatable)")
    emulator.add_argument(
        "--backend",
        choices=["developer", "vertex"],
        default="developer",
        help="which service to be as strict as: the Developer API or Vertex AI",
    )
    emulator.add_argument(
        "--vertex-call-ids",
        action="store_true",
        help="vertex: give tool calls an id (default: none, as Vertex may)",
    )
    emulator.set_defaults(func=_run_emulator)
    return parser


def _log_settings(env_file: str | None) -> tuple[str, str]:
    """LOG_LEVEL and LOG_FORMAT from the environment, else from the command's `.env` file (a
    broken file is reported by the settings, once logging is set up)."""
    from pathlib import Path

    from gateway.env_reader import SettingsError, parse_dotenv

    dotenv: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        try:
            dotenv = parse_dotenv(Path(env_file).read_text(encoding="utf-8"), source=env_file)
        except (SettingsError, OSError, UnicodeDecodeError):
            dotenv = {}

    def value(name: str, default: str) -> str:
        return os.environ.get(name) or dotenv.get(name) or default

    return value("LOG_LEVEL", "INFO"), value("LOG_FORMAT", "json")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: sys.argv) and run the chosen command; returns the exit status."""
    args = _build_parser().parse_args(argv)
    level, fmt = _log_settings(getattr(args, "env_file", None))
    configure(level, fmt)
    func: Command = args.func
    return func(args)

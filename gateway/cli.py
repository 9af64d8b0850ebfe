"""Command line: `gateway <command>` (also `python -m gateway <command>`).

Each command is a function `run_<name>(args) -> int` registered in `_build_parser`; commands import
their heavy modules lazily so `gateway --help` stays fast.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence

from gateway import __version__
from gateway.log import configure

Command = Callable[[argparse.Namespace], int]


def _run_audio_report(args: argparse.Namespace) -> int:
    from gateway.audio_report import print_report

    print_report(linear_phase=args.linear_phase)
    return 0


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description=__doc__)
    parser.add_argument("--version", action="version", version=f"gateway {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    report = sub.add_parser(
        "audio-report",
        help="measure the audio paths (ripple, aliasing, THD+N, delay, cost) and print a table",
    )
    report.add_argument("--linear-phase", action="store_true", help="measure linear-phase filters")
    report.set_defaults(func=_run_audio_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` (default: sys.argv) and run the chosen command; returns the exit status."""
    args = _build_parser().parse_args(argv)
    configure(os.environ.get("LOG_LEVEL", "INFO"), os.environ.get("LOG_FORMAT", "json"))
    func: Command = args.func
    return func(args)

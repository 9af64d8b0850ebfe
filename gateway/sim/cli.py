"""`gateway call AUDIO`: place one simulated carrier call against a running gateway.

`gateway.cli` registers the sub-command with `add_call_arguments` and runs it with `run_call`.
Exit status: 0 when a media stream ran and ended normally (the script finished, or the gateway
hung up), 1 when the call failed (webhook error, refused TwiML or stream, a 31924 protocol error),
2 for bad input (unreadable audio, bad options), 3 when the gateway answered without a stream
(a polite fallback such as `<Say>…<Hangup/>`).
"""

from __future__ import annotations

# The simulator's machinery (httpx, websockets, scipy) is imported in run_call, not here:
# `gateway --help` builds this parser and should stay fast.
import argparse
import asyncio
import json
import logging
import os
import ssl
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.sim.report import CallReport

from gateway.carriers import registry
from gateway.sim.carriers import DEFAULT_CARRIER, carrier_names, sim_carrier
from gateway.sim.script import DTMF_DIGITS, DtmfPress, SimOptions, new_call_sid

__all__ = ["EXIT_FAILED", "EXIT_NO_STREAM", "add_call_arguments", "parse_dtmf", "run_call"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_STREAM = 3

DEFAULT_ACCOUNT_SID = "AC" + "0" * 32


def parse_dtmf(text: str) -> DtmfPress:
    """`SECONDS:DIGIT` (e.g. `5.0:2`) -> a key press that many seconds into the stream."""
    seconds, sep, digit = text.partition(":")
    try:
        at_s = float(seconds)
    except ValueError:
        at_s = -1.0
    if not sep or at_s < 0 or digit not in DTMF_DIGITS:
        raise argparse.ArgumentTypeError(f"expected SECONDS:DIGIT (digit 0-9 * #), got {text!r}")
    return DtmfPress(at_s * 1000, digit)


def add_call_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `gateway call`. Secrets and account ids default from the environment, then
    from the `.env` file (`--env-file`), as `gateway serve` reads them."""
    parser.add_argument(
        "audio",
        metavar="AUDIO",
        help="WAV file of what the caller says (any rate; PCM, float, μ-law or A-law); a sidecar "
        "AUDIO-without-.wav.json adds utterance annotations, DTMF and the tail",
    )
    parser.add_argument(
        "--url",
        default="http://127.0.0.1:8080",
        help="the gateway's base URL (webhook: /CARRIER/voice)",
    )
    parser.add_argument(
        "--carrier",
        default=DEFAULT_CARRIER,
        choices=carrier_names(),
        help=f"the carrier dialect to speak (default {DEFAULT_CARRIER})",
    )
    parser.add_argument(
        "--account-sid",
        help="account id to present (default: the carrier's variable, e.g. $TWILIO_ACCOUNT_SID)",
    )
    parser.add_argument(
        "--auth-token",
        help="the carrier's signing secret (default: its variable, e.g. $TWILIO_AUTH_TOKEN; "
        "unset: requests are not signed); see docs/simulator.md per carrier",
    )
    parser.add_argument("--from", dest="from_number", default="+15017122661", help="caller number")
    parser.add_argument("--to", dest="to_number", default="+15558675310", help="called number")
    parser.add_argument("--call-sid", help="CallSid (default: a random CA…)")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="1 = real time; 10 runs the call 10x faster"
    )
    parser.add_argument(
        "--dtmf",
        type=parse_dtmf,
        action="append",
        metavar="SECONDS:DIGIT",
        help="press DIGIT at SECONDS after the stream starts (repeatable; replaces the sidecar's)",
    )
    parser.add_argument(
        "--tail-s",
        type=float,
        help="stay on the line this long after the audio ends (default: sidecar's, else 3)",
    )
    parser.add_argument(
        "--out", help="write a stereo WAV: left what was said, right what was heard"
    )
    parser.add_argument("--timeline", help="write the timeline to this file too")
    parser.add_argument("--json", dest="json_path", help="write the report as JSON")
    parser.add_argument(
        "--report", help="write the call's report page (one self-contained HTML file) to this file"
    )
    parser.add_argument(
        "--every-message",
        action="store_true",
        help="list every mark received and echoed in the timeline (default: runs condensed)",
    )
    parser.add_argument(
        "--env-file",
        default=".env",
        help="dotenv file the secrets default from, after the environment (default .env, the "
        "file `gateway serve` reads)",
    )
    parser.add_argument("--cafile", help="CA certificate to trust for https:// and wss://")
    parser.add_argument(
        "--timeout-s", type=float, default=10.0, help="HTTP and WebSocket open timeout"
    )


def _exit_status(report: CallReport) -> int:
    from gateway.sim.entries import CallOutcome

    if report.ok:
        return EXIT_OK
    if report.outcome is CallOutcome.NO_STREAM:
        return EXIT_NO_STREAM
    return EXIT_FAILED


def _dotenv(path: str | None) -> dict[str, str]:
    """The `.env` file's variables (the same file `gateway serve` reads), if there is one."""
    from gateway.env_reader import parse_dotenv

    if not path or not Path(path).is_file():
        return {}
    return parse_dotenv(Path(path).read_text(encoding="utf-8"), source=path)


def _env(name: str | None, dotenv: dict[str, str]) -> str | None:
    """The process environment's value, else the `.env` file's (as `gateway serve` reads them)."""
    if not name:
        return None
    return os.environ.get(name) or dotenv.get(name) or None


def forbidden_hint(carrier: str, signed: bool) -> str:
    """What to check when the gateway answered the webhook 403, naming the variables."""
    plugin = registry.carrier(carrier)
    variable = plugin.secret_doc or plugin.secret_name
    sim = sim_carrier(carrier)
    if signed:
        cause = (
            f"the signature did not verify: the gateway's {variable} must match the secret this "
            f"command signs with (--auth-token or {sim.secret_env}), and the URL must be the one "
            "the gateway sees (GATEWAY_PUBLIC_URL)"
        )
    else:
        cause = f"this call was not signed ({sim.secret_env or '--auth-token'} is not set here)"
    if carrier == "twilio":
        return f"the gateway refused the webhook (HTTP 403): {cause}."
    return (
        f"the gateway refused the webhook (HTTP 403): {cause}. {carrier} webhooks are refused "
        f"while the gateway has no {variable}, unless GATEWAY_UNSIGNED_CARRIERS names "
        f"{carrier} (local tests only)."
    )


def _options(args: argparse.Namespace) -> SimOptions:
    ssl_context = ssl.create_default_context(cafile=args.cafile) if args.cafile else None
    carrier = sim_carrier(args.carrier)
    dotenv = _dotenv(args.env_file)
    return SimOptions(
        account_sid=args.account_sid or _env(carrier.account_env, dotenv) or DEFAULT_ACCOUNT_SID,
        auth_token=args.auth_token or _env(carrier.secret_env, dotenv),
        call_sid=args.call_sid or new_call_sid(),
        from_number=args.from_number,
        to_number=args.to_number,
        speed=args.speed,
        http_timeout_s=args.timeout_s,
        ws_open_timeout_s=args.timeout_s,
        ssl_context=ssl_context,
    )


def run_call(args: argparse.Namespace) -> int:
    """Place the call, print its timeline, write the requested files; returns the exit status."""
    from gateway.reports.html import render_report
    from gateway.sim.call import place_call
    from gateway.sim.recording import RecordingError, load_recording
    from gateway.sim.report import report_to_json
    from gateway.sim.report_page import report_data
    from gateway.sim.timeline import format_timeline
    from gateway.sim.wav import write_wav

    try:
        tail_ms = args.tail_s * 1000 if args.tail_s is not None else None
        dtmf = tuple(args.dtmf) if args.dtmf else None
        recording = load_recording(args.audio, tail_ms=tail_ms, dtmf=dtmf)
        options = _options(args)
    except (RecordingError, ValueError, OSError) as exc:  # SettingsError (.env) is a ValueError
        print(f"gateway call: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # The timeline already shows the webhook request; httpx's own INFO line is noise here.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    dialect = sim_carrier(args.carrier).dialect()
    report = asyncio.run(place_call(args.url, recording.script, options, dialect=dialect))
    timeline = format_timeline(report, every_message=args.every_message)
    print(timeline, end="")
    if report.webhook_status == 403:
        signed = options.auth_token is not None
        print(f"gateway call: {forbidden_hint(args.carrier, signed)}", file=sys.stderr)
    try:
        if args.out:
            write_wav(report, args.out)
        if args.timeline:
            Path(args.timeline).write_text(timeline, encoding="utf-8")
        if args.json_path:
            data = json.dumps(report_to_json(report), indent=2, ensure_ascii=False)
            Path(args.json_path).write_text(data + "\n", encoding="utf-8")
        if args.report:
            page = render_report(report_data(report))
            Path(args.report).write_text(page, encoding="utf-8")
    except OSError as exc:
        print(f"gateway call: cannot write the results: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return _exit_status(report)

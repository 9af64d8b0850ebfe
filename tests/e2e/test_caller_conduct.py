"""What callers expect during a call (issue 20), end to end: the real gateway on loopback, the
Live emulator, the carrier simulator and a fake carrier REST API.

* A silent caller is checked on, then said goodbye to, then hung up once the goodbye played.
* A PIN typed on the keypad (Twilio, Vonage) reaches the tool result and nowhere else.
* A slow backend: the caller hears hold audio, which stops when the model answers.
* An ended call is posted, signed, to the webhook; a receiver that never answers does not slow
  the next calls; on SIGTERM (the real process) a pending delivery gets a bounded last try.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import pytest
import structlog

from gateway.audio.hold_sound import CHIME_NOTES_HZ
from gateway.core.silence import SILENCE_GOODBYE, SILENCE_PROMPT
from gateway.emulator import EmulatorConfig, LiveEmulator, Scenario
from gateway.emulator.scenario import ToolCallRule
from gateway.shell.call_webhooks import verify
from gateway.shell.runtime import CallRecord
from gateway.sim.call import place_call
from gateway.sim.dialect import CarrierDialect
from gateway.sim.report import CallReport
from gateway.sim.script import CallScript, DtmfPress, SimOptions
from tests.e2e.carrier_cases import CASES
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN, run_real_time, running_gateway, wait_for
from tests.e2e.process import gateway_process, json_lines
from tests.fake_twilio import Received, fake_twilio
from tests.loopback import serve_app
from tests.webhook_receiver import Receiver

RATE_HZ = 8_000


@dataclass
class SilentCall:
    report: CallReport
    record: CallRecord
    texts: list[str]
    rest: list[Received]


async def _silent_call() -> SilentCall:
    rest_app = fake_twilio()
    options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
    # 30 s of a caller who says nothing; the gateway ends the call long before.
    script = CallScript(np.zeros(30 * RATE_HZ, dtype=np.int16), tail_ms=0)
    async with serve_app(rest_app) as rest_url, LiveEmulator() as emulator:
        env = {
            "TWILIO_API_BASE": rest_url,
            "GATEWAY_SILENCE_PROMPT_S": "2",
            "GATEWAY_SILENCE_HANGUP_S": "3",
            "GATEWAY_HANDOFF_TIMEOUT_S": "1",  # the fake REST API does not stop the stream
        }
        async with running_gateway(emulator, env) as gateway:
            report = await place_call(gateway.base_url, script, options)
            await wait_for(lambda: len(gateway.calls) == 1, 15)
            texts = [t for s in emulator.recorder.sessions for t in s.texts]
            received: list[Received] = rest_app.state.received
            return SilentCall(report, gateway.calls[0], texts, list(received))


def _run() -> SilentCall:
    return run_real_time(_silent_call())


def test_a_silent_caller_is_checked_on_then_hung_up_after_the_goodbye_played() -> None:
    call = _run()
    summary: Any = call.record.summary
    # The model was told twice: the check-in, then the goodbye; nothing else.
    assert call.texts == [SILENCE_PROMPT, SILENCE_GOODBYE]
    assert (summary["silence_prompts"], summary["silence_hangups"]) == (1, 1)
    # The hang-up went through the hang-up tool's path: once, to the carrier's REST API ...
    assert summary["call_action"] == "hang_up"
    assert summary["end_reason"] == "handed off (hang_up)"
    assert [r.form.get("Status") for r in call.rest] == [["completed"]]
    # ... after the goodbye had played: every mark came back played, nothing was cut.
    assert summary["marks_played"] == summary["marks_sent"] > 0
    assert summary["flushed_ms"] == 0.0
    # The caller heard two answers (the emulator speaks a tone for each text): the check-in
    # and the whole goodbye, and the stream ended well before the caller's 30 s.
    assert len(call.report.agent_segments) == 2
    assert call.report.duration_ms < 25_000


# ------------------------------------------------------------------------------ keypad entry

PIN = "7391"
PIN_TOOLS = """
[[tools]]
name = "enter_pin"
kind = "collect_digits"
max_digits = 8
redact = true
"""


@dataclass
class PinCall:
    record: CallRecord
    texts: list[str]
    tool_responses: list[dict[str, Any]]
    logs: list[str]


def _log_collector(lines: list[str]) -> Any:
    def collect(_logger: Any, _method: str, event_dict: Any) -> Any:
        lines.append(repr(dict(event_dict)))
        raise structlog.DropEvent

    return collect


async def _pin_call(carrier: str, tools_file: Path) -> PinCall:
    # The caller presses 5 ("for your account"), the model asks for the PIN (the emulator's
    # scenario calls enter_pin on that keypress), then the caller types it and #.
    presses = [DtmfPress(500, "5")] + [
        DtmfPress(2_000 + 250 * i, digit) for i, digit in enumerate(PIN + "#")
    ]
    script = CallScript(np.zeros(6 * RATE_HZ, dtype=np.int16), dtmf=tuple(presses), tail_ms=0)
    scenario = Scenario(
        tool_calls=(ToolCallRule(name="enter_pin", on_text="pressed 5", say_ms=600),)
    )
    env: dict[str, str] = {"GATEWAY_TOOLS_FILE": str(tools_file)}
    dialect: CarrierDialect | None = None
    if carrier == "vonage":
        case = CASES["vonage"]
        env |= case.env
        options = case.sim_options()
        dialect = case.dialect()
    else:
        options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
    lines: list[str] = []
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, _log_collector(lines)],
        cache_logger_on_first_use=False,
    )
    try:
        async with (
            LiveEmulator(EmulatorConfig(), scenario) as emulator,
            running_gateway(emulator, env) as gateway,
        ):
            await place_call(gateway.base_url, script, options, dialect=dialect)
            await wait_for(lambda: len(gateway.calls) == 1, 15)
            sessions = emulator.recorder.sessions
            return PinCall(
                gateway.calls[0],
                [t for s in sessions for t in s.texts],
                [r for s in sessions for r in s.tool_responses],
                lines,
            )
    finally:
        structlog.reset_defaults()


@pytest.mark.parametrize("carrier", ["twilio", "vonage"])
def test_a_pin_typed_on_the_keypad_reaches_the_tool_result_and_nowhere_else(
    carrier: str, tmp_path: Path
) -> None:
    tools_file = tmp_path / "tools.toml"
    tools_file.write_text(PIN_TOOLS, encoding="utf-8")
    call = run_real_time(_pin_call(carrier, tools_file))
    # The model's function call is answered with the digits and how the entry ended ...
    assert [r["response"] for r in call.tool_responses] == [
        {"output": {"digits": PIN, "ended_by": "end_key"}}
    ]
    assert call.tool_responses[0]["name"] == "enter_pin"
    # ... the keys typed meanwhile never went to the model one by one (only the 5 before) ...
    assert call.texts == ["The caller pressed 5 on the keypad."]
    # ... and the PIN is in no log line, not in the transcript, not in the summary.
    assert call.logs
    assert not [line for line in call.logs if PIN in line]
    assert any("tool.digits_collected" in line for line in call.logs)
    heard = [(line.role, line.text) for line in call.record.transcript]
    assert ("caller", "[keypad] ***") in heard
    assert PIN not in repr(call.record.transcript)
    assert PIN not in repr(dict(call.record.summary))
    assert call.record.summary["tools"][0]["name"] == "enter_pin"
    assert call.record.summary["tools"][0]["outcome"] == "ok"


# ------------------------------------------------------------------------------- hold audio

SLOW_TOOLS = """
[[tools]]
name = "slow_lookup"
kind = "python"
function = "tests.tools.sample_functions:slow"
description = "Look the order up (slow)."
parameters = { type = "object", properties = { seconds = { type = "number" } } }
"""
WINDOW = 320  # 40 ms at 8 kHz


def _band_levels(heard: npt.NDArray[np.int16]) -> list[tuple[float, float]]:
    """Per 40 ms window of what the caller heard: (hold chime power, model tone power)."""
    freqs = np.fft.rfftfreq(WINDOW, 1 / RATE_HZ)
    hold_bins = (np.abs(freqs - CHIME_NOTES_HZ[0]) < 40) | (np.abs(freqs - CHIME_NOTES_HZ[1]) < 40)
    model_bins = np.abs(freqs - 440.0) < 40
    out = []
    for start in range(0, len(heard) - WINDOW + 1, WINDOW):
        power = np.abs(np.fft.rfft(heard[start : start + WINDOW].astype(np.float64))) ** 2
        out.append((float(power[hold_bins].sum()), float(power[model_bins].sum())))
    return out


async def _slow_tool_call(tools_file: Path) -> tuple[CallReport, CallRecord]:
    script = CallScript(
        np.zeros(9 * RATE_HZ, dtype=np.int16), dtmf=(DtmfPress(500, "5"),), tail_ms=0
    )
    rule = ToolCallRule(
        name="slow_lookup", on_text="pressed 5", args={"seconds": 3.0}, say_ms=1_500
    )
    options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
    env = {"GATEWAY_TOOLS_FILE": str(tools_file)}
    async with (
        LiveEmulator(EmulatorConfig(), Scenario(tool_calls=(rule,))) as emulator,
        running_gateway(emulator, env) as gateway,
    ):
        report = await place_call(gateway.base_url, script, options)
        await wait_for(lambda: len(gateway.calls) == 1, 15)
        return report, gateway.calls[0]


def test_a_slow_backend_gets_hold_audio_that_stops_when_the_model_answers(
    tmp_path: Path,
) -> None:
    tools_file = tmp_path / "tools.toml"
    tools_file.write_text(SLOW_TOOLS, encoding="utf-8")
    report, record = run_real_time(_slow_tool_call(tools_file))
    levels = _band_levels(report.heard)
    loud = max(max(h, m) for h, m in levels)
    hold = [i for i, (h, m) in enumerate(levels) if h > 0.01 * loud and h > 10 * m]
    model = [i for i, (h, m) in enumerate(levels) if m > 0.01 * loud and m > 10 * h]
    # The caller heard the chime while the tool ran, then the model's answer ...
    assert hold, "no hold audio heard"
    assert model, "no answer heard"
    assert hold[0] < model[0]
    # ... and none of the chime once the model spoke.
    assert max(hold) < model[0]
    ms = WINDOW * 1000 / RATE_HZ
    # The hold was stopped by one clear, after it started and before the answer; the clear
    # dropped what the carrier still held of it (the hold is kept 400 ms ahead).
    [clear] = report.clears
    assert hold[0] * ms < clear.at_ms <= model[0] * ms
    assert clear.dropped_ms > 0
    print(
        f"hold heard from {hold[0] * ms:.0f} ms (chime to {(max(hold) + 1) * ms:.0f} ms); "
        f"cleared at {clear.at_ms:.0f} ms dropping {clear.dropped_ms:.0f} ms of it; "
        f"the answer heard from {model[0] * ms:.0f} ms (the key at 500 ms, the tool took 3 s)"
    )
    summary: Any = record.summary
    assert summary["holds"] == 1
    assert summary["hold_ms"] > 0
    assert [line.role for line in record.transcript if line.role == "hold"] == ["hold"]
    assert summary["tools"][0]["name"] == "slow_lookup"


# ------------------------------------------------------------------------ post-call webhooks

HOOK_SECRET = "e2e-webhook-secret-0123456789"


async def _calls_with_webhook(receiver: Receiver, calls: int) -> tuple[list[CallRecord], str]:
    script = CallScript(np.zeros(RATE_HZ, dtype=np.int16), tail_ms=0)
    async with serve_app(receiver.app()) as hook_base, LiveEmulator() as emulator:
        env = {
            "GATEWAY_CALL_WEBHOOK_URL": f"{hook_base}/hook",
            "GATEWAY_CALL_WEBHOOK_SECRET": HOOK_SECRET,
        }
        async with running_gateway(emulator, env) as gateway:
            for n in range(calls):
                options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
                await place_call(gateway.base_url, script, options)
                await wait_for(lambda n=n: len(gateway.calls) == n + 1, 15)  # type: ignore[misc]
            await wait_for(lambda: len(receiver.received) >= min(calls, 4), 15)
            async with httpx.AsyncClient() as http:
                metrics = (await http.get(f"{gateway.base_url}/metrics")).text
            return list(gateway.calls), metrics


def test_an_ended_call_is_posted_once_signed_to_the_webhook() -> None:
    receiver = Receiver()
    [record], metrics = run_real_time(_calls_with_webhook(receiver, 1))
    [request] = receiver.received
    assert verify(HOOK_SECRET, request.headers["gateway-signature"], request.body, time.time())
    document = json.loads(request.body)
    assert document["call_id"] == record.call_id
    assert (document["carrier"], document["direction"], document["profile"]) == (
        "twilio",
        "inbound",
        "default",
    )
    assert (document["from"], document["to"]) == ("+15017122661", "+15558675310")
    assert document["summary"]["end_reason"] == record.summary["end_reason"]
    assert document["outcome"] == record.summary["end_reason"]
    assert document["usage"] == record.summary["usage"]
    assert document["recordings"] == {"audio": None, "transcript": None}
    assert document["started_at"] < document["ended_at"]
    assert document["delivery_id"] == request.headers["gateway-delivery"]
    assert 'gateway_call_webhook_deliveries_total{outcome="delivered"} 1.0' in metrics
    assert "gateway_call_webhook_queue_depth 0.0" in metrics


def test_a_webhook_that_never_answers_does_not_slow_the_next_calls() -> None:
    receiver = Receiver(hang=True)
    records, metrics = run_real_time(_calls_with_webhook(receiver, 3))
    # Every call ended as usual while the receiver held the first documents unanswered.
    assert [r.summary["end_reason"] for r in records] == ["carrier stop"] * 3
    # Each document was attempted (and tried once more at shutdown, bounded): three documents.
    assert len({r.headers["gateway-delivery"] for r in receiver.received}) == 3
    assert 'gateway_call_webhook_deliveries_total{outcome="delivered"} 0.0' in metrics


async def _sigterm_with_a_dead_receiver(tmp_path: Path) -> tuple[int, str, Receiver]:
    receiver = Receiver(hang=True)
    script = CallScript(np.zeros(RATE_HZ, dtype=np.int16), tail_ms=0)
    async with serve_app(receiver.app()) as hook_base, LiveEmulator() as emulator:
        env = {
            "GATEWAY_LIVE_URL": emulator.plain_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "GATEWAY_SECRET": "process-secret-0123456789abcdef",
            "GATEWAY_CALL_WEBHOOK_URL": f"{hook_base}/hook",
            "GATEWAY_CALL_WEBHOOK_SECRET": HOOK_SECRET,
        }
        async with gateway_process(env, tmp_path) as gateway:
            options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
            await place_call(gateway.base_url, script, options)
            await wait_for(lambda: len(receiver.received) == 1, 15)  # the first attempt hangs
            code, stdout, _ = await gateway.stop()  # SIGTERM
    return code, stdout, receiver


def test_on_sigterm_a_pending_delivery_gets_a_bounded_last_try(tmp_path: Path) -> None:
    code, stdout, receiver = asyncio.run(_sigterm_with_a_dead_receiver(tmp_path))
    assert code == 0  # the process stopped although the receiver never answered
    lines = json_lines(stdout)
    [shutdown] = [line for line in lines if line["event"] == "webhook.shutdown"]
    assert (shutdown["last_tries"], shutdown["abandoned"]) == (1, 1)
    assert len(receiver.received) == 2  # the first attempt, then the last try
    assert HOOK_SECRET not in stdout

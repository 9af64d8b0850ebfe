"""Exotel end to end: a call at 16 kHz, and the media upgrade's Basic credentials.

Exotel's recorded calls at 8 kHz (barge-in, DTMF; 200 ms outbound chunks) run with every
carrier's in test_carrier_calls.py, and its webhook and token edge in test_carrier_edges.py.
Here the DTMF menu runs at 16 kHz too (100 ms chunks; the simulator checks every chunk against
Exotel's size rules), a media upgrade with bad credentials is refused before it opens, and the
agent's hang-up ends the stream with no REST request (Exotel has none).
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from gateway.audio.paths import Encoding
from gateway.emulator import LiveEmulator, Scenario
from gateway.emulator.scenario import ToolCallRule
from gateway.sim.call import place_call
from gateway.sim.codecs import StreamCodec
from gateway.sim.entries import CallOutcome
from gateway.sim.exotel import ExotelDialect, basic_header
from gateway.sim.recording import load_recording
from tests.e2e.carrier_cases import CASES, EXOTEL_PASSWORD, RECORDINGS, Placed, place
from tests.e2e.harness import run_real_time, running_gateway, uplink_reference, wait_for
from tests.e2e.test_carrier_control import TOOLS_TOML

USER, PASSWORD = "exotel-user", EXOTEL_PASSWORD
ENV = dict(CASES["exotel"].env)
AT_16K = dataclasses.replace(
    CASES["exotel"],
    env={**ENV, "EXOTEL_AUDIO_RATE": "16000"},
    codec=lambda: StreamCodec(Encoding.L16, 16_000),
)


@functools.cache
def at_16k() -> Placed:
    return run_real_time(place(AT_16K, "dtmf_menu"))


def test_a_call_at_16k_completes_with_100_ms_chunks() -> None:
    call = at_16k()
    assert call.report.outcome is CallOutcome.COMPLETED
    assert call.report.errors == ()  # every chunk met Exotel's size rules
    assert call.call.summary["messages_ignored"] == 0
    assert call.call.summary["dtmf_digits"] == 1
    # 100 ms at 16 kHz is 800 samples once the simulator has it at 8 kHz.
    assert call.report.media_frames_received > 0
    assert call.report.media_bytes_received == 800 * call.report.media_frames_received


def test_live_received_exactly_the_callers_audio_at_16k() -> None:
    call = at_16k()
    received = call.session.audio()
    reference = uplink_reference(call.report.said, AT_16K.codec())
    assert len(received) >= len(uplink_reference(call.recording.script.audio, AT_16K.codec()))
    assert np.array_equal(received, reference[: len(received)])


def test_the_older_start_form_places_a_call() -> None:
    """Exotel's older `start` (`"encoding": "base64"`, `"bit_rate": "128kbps"`): the call runs,
    and Live receives exactly what the caller said."""
    legacy = dataclasses.replace(
        CASES["exotel"], dialect=functools.partial(ExotelDialect, legacy_format=True)
    )
    call = run_real_time(place(legacy, "greeting_question"))
    assert call.report.outcome is CallOutcome.COMPLETED
    assert call.report.errors == ()
    assert call.call.summary["end_reason"] == "carrier stop"
    assert call.call.summary["messages_ignored"] == 0
    assert call.report.media_frames_received > 0  # the caller heard the agent
    received = call.session.audio()
    reference = uplink_reference(call.report.said, legacy.codec())
    assert len(received) >= len(uplink_reference(call.recording.script.audio, legacy.codec()))
    assert np.array_equal(received, reference[: len(received)])


# ------------------------------------------------------------------------------------ the edge


async def _stream_url(base_url: str, call_sid: str) -> str:
    headers = {"Authorization": basic_header(USER, PASSWORD)}
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            f"{base_url}/exotel/voice", params={"CallSid": call_sid}, headers=headers
        )
    assert answer.status_code == 200
    url: str = answer.json()["url"]
    assert url.startswith(f"ws://{USER}:{PASSWORD}@127.0.0.1:")
    return url.replace(f"{USER}:{PASSWORD}@", "")


async def test_a_bad_upgrade_is_refused_before_the_socket_opens() -> None:
    async with LiveEmulator() as emulator, running_gateway(emulator, ENV) as gateway:
        url = await _stream_url(gateway.base_url, "CA1")
        bad = {"Authorization": basic_header(USER, "wrong")}
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, additional_headers=bad, open_timeout=5):
                pass
        assert refused.value.response.status_code == 403
        assert gateway.runtime.streams_rejected == 1
        assert gateway.calls == []


async def test_a_hang_up_ends_the_stream_without_any_rest_request(tmp_path: Path) -> None:
    """Exotel has no in-call REST API: the agent's hang-up ends the stream, and Exotel's flow
    runs its next applet (docs/carriers/exotel.md)."""
    tools_file = tmp_path / "tools.toml"
    tools_file.write_text(TOOLS_TOML)
    recording = load_recording(RECORDINGS / "greeting_question.wav")
    scenario = Scenario(tool_calls=(ToolCallRule(name="end_call", on_turn=1),))
    env = {**ENV, "GATEWAY_TOOLS_FILE": str(tools_file)}
    async with LiveEmulator(None, scenario) as emulator, running_gateway(emulator, env) as gateway:
        case = CASES["exotel"]
        options = case.sim_options()
        report = await place_call(
            gateway.base_url, recording.script, options, dialect=case.dialect()
        )
        await wait_for(lambda: len(gateway.calls) == 1, 15)
    print(report.outcome, gateway.calls[0].summary)
    assert report.outcome is CallOutcome.GATEWAY_CLOSED

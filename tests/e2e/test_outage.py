"""A 20-second Live outage through the real gateway: no caller audio is lost.

The call (recorded speech, then silence, in real time) runs through the real gateway against the
emulator behind a proxy. The emulator sends a `goAway` early in the call; the gateway hands over
at the next turn boundary, and from that moment Live is unreachable for 20 s: every connection is
accepted and left silent, so each attempt ends at the client's opening timeout (10 s). The third
attempt resumes the session. Meanwhile the caller keeps talking: more than 20 s of audio is held
and replayed in one-second chunks, and every sample the gateway took from the carrier reaches the
model exactly once, in order.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gateway.core.connect_buffer import HELD_CHUNK_MS
from gateway.emulator import EmulatorConfig, LiveEmulator, Scenario, SessionRecord
from gateway.emulator.scenario import TimedAction
from gateway.shell.runtime import CallRecord
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.report import CallReport
from gateway.sim.script import CallScript, SimOptions
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN, running_gateway, uplink_reference, wait_for
from tests.e2e.outage_proxy import OutageProxy

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
OUTAGE_S = 20.0
CHUNK_SAMPLES = HELD_CHUNK_MS * 16  # 16 kHz


@dataclass
class Outage:
    report: CallReport
    sessions: list[SessionRecord]
    call: CallRecord
    held_connections: int


async def _call() -> Outage:
    recording = load_recording(RECORDINGS / "long_silences.wav")
    # Three utterances over 24.5 s, then 8 s on the line: the call outlasts the outage.
    script = CallScript(
        recording.script.audio, utterances=recording.script.utterances, tail_ms=8_000
    )
    # goAway 1 s into the first connection with 10 s left: a handover at the first turn
    # boundary (after the answer to the first utterance), forced 5 s before the deadline.
    scenario = Scenario(actions=(TimedAction(at_s=1.0, action="go_away", time_left_s=10.0),))
    async with LiveEmulator(EmulatorConfig(), scenario) as emulator:
        # Connection 1 is the call's session; from connection 2 on (the handover) Live is gone.
        proxy = OutageProxy(emulator.port, down_from=2, outage_s=OUTAGE_S)
        async with proxy.running() as port:
            url = emulator.plain_url.replace(f":{emulator.port}/", f":{port}/")
            async with running_gateway(emulator, {"GATEWAY_LIVE_URL": url}) as gateway:
                options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
                report = await place_call(gateway.base_url, script, options)
                await wait_for(lambda: len(gateway.calls) == 1, 15)
                await wait_for(lambda: gateway.runtime.active_calls == 0, 15)
                return Outage(
                    report, list(emulator.recorder.sessions), gateway.calls[0], proxy.held
                )


@functools.cache
def outage() -> Outage:
    return asyncio.run(_call())


def test_a_20_second_outage_is_bridged_by_retries_and_the_call_goes_on() -> None:
    result = outage()
    assert result.report.outcome is CallOutcome.COMPLETED
    summary = result.call.summary
    assert summary["end_reason"] == "carrier stop"
    assert summary["fallback"] is None
    assert result.held_connections == 2  # two attempts swallowed by the outage
    [session] = result.sessions  # the third attempt resumed the same Live session
    assert session.connections == 2
    [handover] = summary["handovers"]
    assert (handover["reason"], handover["outcome"], handover["attempts"]) == (
        "go_away",
        "resumed",
        3,
    )


def test_no_caller_audio_is_lost_across_a_20_second_outage() -> None:
    result = outage()
    summary = result.call.summary
    [session] = result.sessions
    received = session.audio()
    reference = uplink_reference(result.report.said)
    # Every sample the gateway took from the carrier reached the model once, in order.
    assert len(received) == round(summary["caller_audio_ms"] * 16)
    assert np.array_equal(received, reference[: len(received)])
    assert len(received) >= len(uplink_reference(result.report.said[: 24_500 * 8]))
    # Nothing was dropped on the way: not from the held audio, not from the Live queue.
    assert summary["reconnect_buffer_dropped_ms"] == 0
    assert (summary["live_queue_dropped"], summary["live_queue_dropped_ms"]) == (0, 0)


def _audio_sizes(session: SessionRecord, connection: int) -> list[int]:
    return [
        message.body["audio"]["samples"]
        for message in session.messages
        if message.connection == connection
        and message.kind == "realtimeInput"
        and "audio" in message.body
    ]


def test_held_audio_is_replayed_in_one_second_chunks() -> None:
    [session] = outage().sessions
    assert set(_audio_sizes(session, 1)) == {320}  # live: one 20 ms frame a message
    sizes = _audio_sizes(session, 2)
    whole = next(index for index, size in enumerate(sizes) if size != CHUNK_SAMPLES)
    # More than the Live queue's old bound (500 frames, 10 s) was held, replayed in whole
    # seconds, then the held remainder (whole 20 ms frames), then live frames again.
    assert whole > 10
    remainder, *live = sizes[whole:]
    assert remainder % 320 == 0
    assert 0 < remainder < CHUNK_SAMPLES
    assert set(live) == {320}

"""Recorded calls through the real gateway: uvicorn on loopback, the Live emulator, the simulator.

Each recording in tests/recordings/ is played in real time, all of them at once, each against
its own gateway and emulator (so what each emulator heard belongs to one call). The tests then
compare three views of every call: what the simulated carrier sent and heard, what the emulator
(the model) received, and the gateway's own `call.ended` summary.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from gateway.audio.measure import rms_dbfs
from gateway.core.options import BridgeOptions
from gateway.emulator import EmulatorConfig, LiveEmulator, Scenario, SessionRecord
from gateway.shell.runtime import CallRecord
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import Recording, load_recording
from gateway.sim.report import CallReport
from gateway.sim.script import SimOptions
from tests.e2e.harness import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    best_correlation,
    run_real_time,
    running_gateway,
    uplink_reference,
    wait_for,
)

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
NAMES = ["greeting_question", "interrupt", "dtmf_menu", "long_silences", "noisy_line"]
RATE_HZ = 8000
REPLY = "Thank you for calling, let me check that for you right away, one moment please"


@dataclass
class Outcome:
    recording: Recording
    report: CallReport
    session: SessionRecord
    call: CallRecord
    tasks_left: int


def _samples(ms: float) -> int:
    return round(ms * RATE_HZ / 1000)


async def _one_call(name: str) -> Outcome:
    recording = load_recording(RECORDINGS / f"{name}.wav")
    threshold = recording.hints.get("vad_threshold_dbfs")
    config = EmulatorConfig(vad_threshold_dbfs=float(threshold) if threshold else None)
    scenario = Scenario(replies=[REPLY] * 10)
    async with LiveEmulator(config, scenario) as emulator, running_gateway(emulator) as gateway:
        options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
        report = await place_call(gateway.base_url, recording.script, options)
        await wait_for(lambda: len(gateway.calls) == 1)
        await wait_for(lambda: gateway.runtime.active_calls == 0)
        session = emulator.recorder.sessions[0]
        await wait_for(lambda: len(session.closes) >= 1)
        return Outcome(recording, report, session, gateway.calls[0], len(gateway.runtime.prewarm))


async def _all_calls() -> dict[str, Outcome]:
    baseline = len(asyncio.all_tasks())
    outcomes = await asyncio.gather(*(_one_call(name) for name in NAMES))
    await asyncio.sleep(0)
    left = len(asyncio.all_tasks()) - baseline
    return {o.recording.path.stem: _with_tasks(o, left) for o in outcomes}


def _with_tasks(outcome: Outcome, left: int) -> Outcome:
    outcome.tasks_left = left
    return outcome


@functools.cache
def outcomes() -> dict[str, Outcome]:
    """The five calls, placed once per test session (about 30 s of real-time audio)."""
    return run_real_time(_all_calls())


@pytest.fixture(params=NAMES)
def outcome(request: pytest.FixtureRequest) -> Outcome:
    name: str = request.param
    return outcomes()[name]


def _heard_between(report: CallReport, start_ms: float, end_ms: float) -> npt.NDArray[np.int16]:
    return report.heard[_samples(start_ms) : _samples(end_ms)]


# ------------------------------------------------------------------------------------- tests


def test_the_call_completes_cleanly(outcome: Outcome) -> None:
    assert outcome.report.outcome is CallOutcome.COMPLETED
    assert outcome.report.errors == ()
    assert outcome.call.summary["end_reason"] == "carrier stop"
    assert outcome.call.summary["illegal_events"] == 0
    assert outcome.call.summary["messages_missed"] == 0
    assert outcome.call.summary["messages_ignored"] == 0


def test_live_received_exactly_the_callers_audio_at_16k(outcome: Outcome) -> None:
    received = outcome.session.audio()
    reference = uplink_reference(outcome.report.said)
    speech = uplink_reference(outcome.recording.script.audio)
    assert outcome.session.audio_rates_hz == {16_000}
    # Everything the caller said arrived (the stream's last frames may race the close).
    assert len(received) >= len(speech)
    assert len(received) % 320 == 0  # whole 20 ms frames, none split or lost
    assert np.array_equal(received, reference[: len(received)])
    # And it is the caller's speech at its level, not silence passing an equality test.
    for utterance in outcome.recording.script.utterances:
        start, end = round(utterance.start_ms * 16), round(utterance.end_ms * 16)
        source = outcome.recording.script.audio[
            _samples(utterance.start_ms) : _samples(utterance.end_ms)
        ]
        level_db = rms_dbfs(received[start:end], 16_000, settle_s=0)
        assert abs(level_db - rms_dbfs(source, RATE_HZ, settle_s=0)) < 0.5


def test_the_caller_hears_an_answer_to_each_utterance(outcome: Outcome) -> None:
    """The emulator answers in echo mode: the caller hears their own words come back."""
    report = outcome.report
    utterances = outcome.recording.script.utterances
    for index, utterance in enumerate(utterances):
        following = utterances[index + 1].start_ms if index + 1 < len(utterances) else None
        probe_end = min(utterance.end_ms, utterance.start_ms + 400)
        probe = report.said[_samples(utterance.start_ms) : _samples(probe_end)]
        window_end = following + 1000 if following is not None else len(report.heard) / 8
        heard = _heard_between(report, utterance.start_ms, window_end)
        assert best_correlation(heard, probe) > 0.95, f"no echo of utterance {index + 1}"
    assert report.answer_latency_ms is not None


def test_barge_in_clears_playback_and_no_stale_audio_follows() -> None:
    outcome = outcomes()["interrupt"]
    report = outcome.report
    second = outcome.recording.script.utterances[1]
    assert outcome.call.summary["interruptions"] >= 1
    assert len(report.clears) >= 1
    clear = report.clears[0]
    # The clear came while the caller was interrupting (after they started, before they ended
    # plus the emulator's end-of-speech silence).
    assert second.start_ms < clear.at_ms < second.end_ms + 1000
    assert clear.dropped_ms > 0
    # Nothing of the interrupted answer is heard after the clear: silence until the answer to
    # the interruption, which echoes the second utterance.
    gap = _heard_between(report, clear.at_ms + 5, second.end_ms)
    assert not gap.any()
    probe = report.said[_samples(second.start_ms) : _samples(second.start_ms + 400)]
    assert (
        best_correlation(_heard_between(report, second.end_ms, len(report.heard) / 8), probe) > 0.95
    )
    # The interrupted answer was heard only in part.
    agent_lines = [line for line in outcome.call.transcript if line.role == "agent"]
    assert agent_lines
    assert agent_lines[0].heard_text != agent_lines[0].text
    assert agent_lines[0].text.startswith(agent_lines[0].heard_text)


def test_dtmf_reaches_the_model_as_text() -> None:
    outcome = outcomes()["dtmf_menu"]
    digits = [press.digit for press in outcome.recording.script.dtmf]
    assert digits
    assert outcome.call.summary["dtmf_digits"] == len(digits)
    assert outcome.session.texts == [f"The caller pressed {d} on the keypad." for d in digits]
    kinds = [m.kind for m in outcome.session.messages if m.body.get("text")]
    assert kinds == ["realtimeInput"] * len(digits)


def test_heard_accounting_matches_the_carriers_marks(outcome: Outcome) -> None:
    summary = outcome.call.summary
    marks = outcome.report.marks
    played = [m for m in marks if m.played]
    assert summary["marks_sent"] == len(marks)
    assert summary["marks_played"] == len(played)
    assert summary["marks_sent"] - summary["marks_played"] == len(marks) - len(played)
    assert summary["pending_ms"] == 0
    assert summary["sent_ms"] == summary["played_ms"] + summary["flushed_ms"]
    heard_ms = outcome.report.media_bytes_received / 8 - sum(
        c.dropped_ms for c in outcome.report.clears
    )
    # Marks are spaced (`mark_interval_ms`): at a clear, the audio sent since the last mark placed
    # counts as flushed, heard or not (docs/audio.md): the figure may fall short by that much.
    clears = len(outcome.report.clears)
    spacing_ms = BridgeOptions().mark_interval_ms
    assert -(20 + spacing_ms) * clears - 20 <= summary["played_ms"] - heard_ms <= 20 * (1 + clears)


def test_the_gateway_is_idle_after_the_calls(outcome: Outcome) -> None:
    assert outcome.tasks_left == 0
    assert outcome.session.connections == 1

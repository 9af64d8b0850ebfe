"""Agent profiles end to end: the real `gateway serve` process with a profiles file, a price file
and a recordings directory; the Live emulator in this process; the carrier simulator.

Three calls run at once against one gateway, once per module:

* `sales` (+15550001111): the agent speaks first, and the call is recorded (transcript and
  audio). The caller is tests/recordings/interrupt.wav, placed with the simulator's command line
  (`gateway call ... --out --json`) in real time: the caller talks over the greeting and then
  over the first answer, so the recording has two barge-ins to get right "as heard".
* `support` (+1 (555) 000-2222 in the file, dialed as +15550002222): another model, voice and
  instructions, no greeting, nothing recorded; the caller is tests/recordings/dtmf_menu.wav
  (three model turns, so three usageMetadata messages to sum).
* an unlisted number: no profile answers it and there is no default, so the carrier gets the
  fallback answer and no stream.

The emulator's recorder keeps what it received (setups, messages); `TappedEmulator` also keeps
what it sent, so usage sums, transcripts and heard words are checked against the messages that
actually went out. One more test starts `gateway serve` with a profile its model refuses.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import os
import sys
import wave
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from websockets.asyncio.server import ServerConnection

from gateway.emulator import EmulatorConfig, LiveEmulator, Scenario, SessionRecord
from gateway.emulator.outputs import Close, Output
from gateway.emulator.replies import echo_audio
from gateway.shell.runtime import FALLBACK_MESSAGE
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.report import CallReport
from gateway.sim.script import SimOptions
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN, run_real_time
from tests.e2e.process import free_port, gateway_process, json_lines, wait_for_health

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
RATE_HZ = 8000
FRAME = 160  # samples in a 20 ms carrier frame

NATIVE = "gemini-2.5-flash-native-audio-preview-12-2025"
FLASH_31 = "gemini-3.1-flash-live-preview"
SALES_NUMBER = "+15550001111"
SUPPORT_NUMBER = "+15550002222"
UNLISTED_NUMBER = "+15550009999"
CALLER_NUMBER = "+15017122661"
SALES_INSTRUCTIONS = "You are Ada, who sells solar panels. Keep every answer short."
SUPPORT_INSTRUCTIONS = "You are Bo. You help customers whose solar panels stopped working."
GREETING_PROMPT = "Greet the caller as Ada from the sales team and ask what they need."

AGENTS_TOML = f"""
[defaults]
language = "en-US"

[profiles.sales]
numbers = ["{SALES_NUMBER}"]
model = "{NATIVE}"
voice = "Puck"
instructions = "{SALES_INSTRUCTIONS}"
greeting = "agent"
greeting_prompt = "{GREETING_PROMPT}"
record = ["transcript", "audio"]

[profiles.support]
numbers = ["+1 (555) 000-2222"]
model = "{FLASH_31}"
voice = "Kore"
instructions_file = "support.txt"
"""

# Made-up prices (per million tokens), different per model, so the estimate must use the
# call's own model.
PRICES_TOML = f"""
currency = "USD"

[models."{NATIVE}"]
prompt_audio = 3.00
prompt_text = 0.50
response_audio = 12.00
response_text = 2.00

[models."{FLASH_31}"]
prompt_audio = 2.25
prompt_text = 0.40
response_audio = 9.50
response_text = 1.60
"""
PRICES = {
    NATIVE: {"prompt_audio": Decimal("3.00"), "response_audio": Decimal("12.00")},
    FLASH_31: {"prompt_audio": Decimal("2.25"), "response_audio": Decimal("9.50")},
}

# What the emulator "hears" (inputTranscription per caller turn) and "says" (outputTranscription
# per model turn): several words each, spread over an answer's audio chunks.
TRANSCRIPTS = (
    "I would like to change the delivery address on my order, please.",
    "Sorry, actually, wait a moment.",
)
REPLIES = (
    "Hello, this is Ada from the sales team, what can I do for you today?",
    "Of course, I can change the delivery address on your order for you right now.",
    "No problem at all, take your time, I will wait right here until you are ready.",
)

MATCH_BAR_DB = 30.0
"""A recording channel matches what the simulator said or heard when, aligned, the difference
is at least this far below the signal. Measured: no difference at all (both channels bit-exact,
away from the barge-in cuts); the channels swapped, -2 dB (right) and -4 dB (left); a recording
that keeps the interrupted answers' unplayed audio (no truncation on barge-in), 7 dB."""
CUT_TOLERANCE = 240
"""Samples (30 ms) either side of a barge-in's cut where the recording may differ from what was
heard: the gateway cuts at its media clock (caller samples received, which advances in 20 ms
frames), the carrier when the clear arrives."""
MAX_LAG = 320
"""Largest delay (40 ms) of the carrier's playback behind the recording: the network plus one
frame of the gateway's media clock."""


class TappedEmulator(LiveEmulator):
    """The Live emulator, also keeping every message it sent, per session (its recorder keeps
    what it received only)."""

    def __init__(self, config: EmulatorConfig, scenario: Scenario) -> None:
        super().__init__(config, scenario)
        self.sent: dict[str, list[dict[str, Any]]] = {}

    async def _emit(
        self, connection: ServerConnection, where: tuple[SessionRecord, int], outputs: list[Output]
    ) -> None:
        for output in outputs:
            await super()._emit(connection, where, [output])  # raises if it could not be sent
            if isinstance(output, Close):
                return
            self.sent.setdefault(where[0].session_id, []).append(output.message)


@dataclass
class Call:
    """One answered call as every party saw it."""

    call_sid: str
    session: SessionRecord
    sent: list[dict[str, Any]]
    ended: dict[str, Any]


@dataclass
class Outcome:
    sales: Call
    support: Call
    sessions: int
    lines: list[dict[str, Any]]
    sales_report: dict[str, Any]
    """The simulator's --json report of the sales call."""
    said: npt.NDArray[np.int64]
    """--out left: what the sales caller said."""
    heard: npt.NDArray[np.int64]
    """--out right: what the sales caller heard."""
    support_report: CallReport
    unlisted: CallReport
    recordings: Path
    recording_files: list[Path]
    stream_exit: int


def _read_stereo(path: Path) -> tuple[int, npt.NDArray[np.int64]]:
    """(rate, frames x 2) of a 16-bit stereo WAV."""
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (2, 2)
        data = wav.readframes(wav.getnframes())
        return wav.getframerate(), np.frombuffer(data, "<i2").reshape(-1, 2).astype(np.int64)


async def _cli_call(base_url: str, to: str, audio: Path, out: Path, report: Path) -> int:
    """`gateway call` (the simulator's command line) in a child process; its exit status."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "call", str(audio), "--url", base_url, "--to", to,
        "--from", CALLER_NUMBER, "--auth-token", AUTH_TOKEN, "--account-sid", ACCOUNT_SID,
        "--out", str(out), "--json", str(report),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await process.communicate()
    assert process.returncode is not None
    assert not stderr.strip(), stderr.decode()
    return process.returncode


def _instructions(session: SessionRecord) -> str:
    text: str = session.setups[0]["systemInstruction"]["parts"][0]["text"]
    return text


async def _run(tmp: Path) -> Outcome:
    (tmp / "agents.toml").write_text(AGENTS_TOML, encoding="utf-8")
    (tmp / "support.txt").write_text(SUPPORT_INSTRUCTIONS + "\n", encoding="utf-8")
    (tmp / "prices.toml").write_text(PRICES_TOML, encoding="utf-8")
    recordings = tmp / "recordings"
    recordings.mkdir()
    # The emulator shares this event loop with the in-process simulator: its first echo builds
    # a 16 -> 24 kHz resampler (a second of CPU), which would stall the simulated carrier's
    # real-time frames. Build it now.
    echo_audio(np.zeros(FRAME, np.int16), 16_000)
    scenario = Scenario(transcripts=TRANSCRIPTS, replies=REPLIES)
    emulator = TappedEmulator(EmulatorConfig(), scenario)
    async with emulator:
        env = {
            "GATEWAY_LIVE_URL": emulator.plain_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "GATEWAY_SECRET": "agents-secret-0123456789abcdef",
            "GATEWAY_AGENTS_FILE": str(tmp / "agents.toml"),
            "GATEWAY_PRICES_FILE": str(tmp / "prices.toml"),
            "GATEWAY_RECORDINGS_DIR": str(recordings),
            # A mark after every model chunk: the transcript test counts the chunks heard by
            # their marks (spaced marks are tested in tests/core/test_playout.py).
            "GATEWAY_MARK_INTERVAL_MS": "0",
        }
        async with gateway_process(env, tmp) as gateway:
            base_url = gateway.base_url

            def options(to: str) -> SimOptions:
                return SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID, to_number=to)

            support_script = load_recording(RECORDINGS / "dtmf_menu.wav").script
            exit_status, support_report, unlisted = await asyncio.gather(
                _cli_call(
                    base_url,
                    SALES_NUMBER,
                    RECORDINGS / "interrupt.wav",
                    tmp / "sales.wav",
                    tmp / "sales.json",
                ),
                place_call(base_url, support_script, options(SUPPORT_NUMBER)),
                place_call(base_url, support_script, options(UNLISTED_NUMBER)),
            )
            await wait_for_health(base_url, lambda body: body["active_calls"] == 0)
            # The recording's files are written once the call has ended.
            async with asyncio.timeout(15):
                while '"recording.written"' not in gateway.stdout:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            code, stdout, _ = await gateway.stop()
        assert code == 0
    lines = json_lines(stdout)
    sales_report = json.loads((tmp / "sales.json").read_text(encoding="utf-8"))
    rate, out = _read_stereo(tmp / "sales.wav")
    assert rate == RATE_HZ
    by_instructions = {_instructions(s): s for s in emulator.recorder.sessions}
    ended = {line["call_sid"]: line for line in lines if line["event"] == "call.ended"}

    def call(call_sid: str, instructions: str) -> Call:
        session = by_instructions[instructions]
        return Call(call_sid, session, emulator.sent[session.session_id], ended[call_sid])

    return Outcome(
        sales=call(sales_report["call_sid"], SALES_INSTRUCTIONS),
        support=call(support_report.call_sid, SUPPORT_INSTRUCTIONS),
        sessions=len(emulator.recorder.sessions),
        lines=lines,
        sales_report=sales_report,
        said=out[:, 0],
        heard=out[:, 1],
        support_report=support_report,
        unlisted=unlisted,
        recordings=recordings,
        recording_files=sorted(p for p in recordings.rglob("*") if p.is_file()),
        stream_exit=exit_status,
    )


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """The three calls, placed once for this module (about 13 s of real time)."""
    return run_real_time(_run(tmp_path_factory.mktemp("agents")))


# ------------------------------------------------------------------------------- helpers


def _runs(x: npt.NDArray[np.int64], gap: int = 800) -> list[tuple[int, int]]:
    """[start, end) of the stretches where `x` is not silent (split at `gap` zeros or more)."""
    loud = np.flatnonzero(x)
    if not len(loud):
        return []
    breaks = np.flatnonzero(np.diff(loud) > gap)
    starts = [loud[0], *loud[breaks + 1]]
    ends = [*(loud[breaks] + 1), loud[-1] + 1]
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def _aligned(
    recorded: npt.NDArray[np.int64], reference: npt.NDArray[np.int64], max_lag: int = 800
) -> tuple[npt.NDArray[np.int64], list[int]]:
    """`recorded` with each of its audible stretches moved to where `reference` matches it best
    (the lag at which the most of its non-zero samples are equal), and those lags in samples
    (positive: the reference has it later). Each stretch gets its own lag: the gateway places
    every answer on its own media clock, the carrier when its audio arrives."""
    out = np.zeros_like(reference)
    lags = []
    for start, end in _runs(recorded):
        stretch = recorded[start:end]
        loud = stretch != 0
        best_lag, best_equal = 0, -1
        for lag in range(max(-max_lag, -start), max_lag + 1):
            if start + lag + len(stretch) > len(reference):
                break
            window = reference[start + lag : end + lag]
            equal = int(np.count_nonzero((window == stretch) & loud))
            if equal > best_equal:
                best_lag, best_equal = lag, equal
        out[start + best_lag : end + best_lag] += stretch
        lags.append(best_lag)
    return out, lags


def _snr_db(reference: npt.NDArray[np.int64], candidate: npt.NDArray[np.int64]) -> float:
    """How far the difference is below the reference (inf: identical)."""
    error = float(np.sum((reference - candidate).astype(np.float64) ** 2))
    signal = float(np.sum(reference.astype(np.float64) ** 2))
    return float("inf") if error == 0 else 10 * np.log10(signal / error)


def _sample(ms: float) -> int:
    return int(np.floor(ms * RATE_HZ / 1000 + 1e-9))  # as the simulator's playback model does


def _expected_usage(sent: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The sum of every usageMetadata the emulator sent, in the `call.ended` shape."""
    usages = [m["usageMetadata"] for m in sent if "usageMetadata" in m]
    fields = {
        "prompt": "promptTokenCount",
        "cached": "cachedContentTokenCount",
        "response": "responseTokenCount",
        "tool_use_prompt": "toolUsePromptTokenCount",
        "thoughts": "thoughtsTokenCount",
        "total": "totalTokenCount",
    }
    details = {
        "prompt": "promptTokensDetails",
        "response": "responseTokensDetails",
        "cached": "cacheTokensDetails",
        "tool_use_prompt": "toolUsePromptTokensDetails",
    }
    expected: dict[str, Any] = {"messages": len(usages), "rejected": 0}
    for kind, name in fields.items():
        expected[f"{kind}_tokens"] = sum(u.get(name, 0) for u in usages)
    for kind, name in details.items():
        by: dict[str, int] = {}
        for usage in usages:
            for entry in usage.get(name, []):
                modality = entry["modality"].lower()
                by[modality] = by.get(modality, 0) + entry["tokenCount"]
        expected[f"{kind}_by_modality"] = dict(sorted(by.items()))
    return expected


@dataclass
class Turn:
    """One model turn as the emulator sent it: the transcript piece that followed each audio
    chunk ("" when none did), and the words sent after the last chunk."""

    pieces: list[str]
    tail: str = ""
    interrupted: bool = False

    @property
    def text(self) -> str:
        return ("".join(self.pieces) + self.tail).strip()


def _turns(sent: Sequence[Mapping[str, Any]]) -> Iterator[Turn]:
    turn: Turn | None = None
    after_chunk = False
    for message in sent:
        content = message.get("serverContent", {})
        if "modelTurn" in content:
            turn = turn or Turn([])
            turn.pieces.append("")
            after_chunk = True
        if "outputTranscription" in content:
            assert turn is not None
            text = content["outputTranscription"]["text"]
            if after_chunk:
                turn.pieces[-1] = text
            else:
                turn.tail += text
            after_chunk = False
        if content.get("interrupted"):
            assert turn is not None
            turn.interrupted = True
        if content.get("turnComplete") and turn is not None:
            yield turn
            turn = None


def _inputs(sent: Sequence[Mapping[str, Any]]) -> list[str]:
    return [
        m["serverContent"]["inputTranscription"]["text"]
        for m in sent
        if "inputTranscription" in m.get("serverContent", {})
    ]


# --------------------------------------------------------------- profile selection by number


def test_each_number_gets_its_profiles_live_setup(outcome: Outcome) -> None:
    assert outcome.stream_exit == 0
    assert outcome.support_report.outcome is CallOutcome.COMPLETED
    assert outcome.sessions == 2  # one per answered call; the unlisted number opened none
    sales = outcome.sales.session.setups
    support = outcome.support.session.setups
    assert len(sales) == len(support) == 1
    assert sales[0]["model"] == f"models/{NATIVE}"
    assert support[0]["model"] == f"models/{FLASH_31}"
    for setup, voice in ((sales[0], "Puck"), (support[0], "Kore")):
        speech = setup["generationConfig"]["speechConfig"]
        assert speech["voiceConfig"] == {"prebuiltVoiceConfig": {"voiceName": voice}}
        assert speech["languageCode"] == "en-US"
    assert sales[0]["systemInstruction"] == {
        "role": "user",
        "parts": [{"text": SALES_INSTRUCTIONS}],
    }
    assert support[0]["systemInstruction"] == {
        "role": "user",
        "parts": [{"text": SUPPORT_INSTRUCTIONS}],
    }


def test_the_greeting_profile_is_told_to_speak_first(outcome: Outcome) -> None:
    sales = outcome.sales.session.messages
    assert [m.kind for m in sales[:2]] == ["setup", "realtimeInput"]
    assert sales[1].body == {"text": GREETING_PROMPT}  # before any caller audio
    assert outcome.sales.session.texts == [GREETING_PROMPT]
    # The other profile waits for the caller: its first input is audio; its only text is the
    # caller's key press.
    support = outcome.support.session.messages
    assert support[1].kind == "realtimeInput"
    assert set(support[1].body) == {"audio"}
    assert outcome.support.session.texts == ["The caller pressed 2 on the keypad."]
    # The greeting was answered: the emulator's first turn is the greeting's.
    first = next(_turns(outcome.sales.sent))
    assert first.interrupted  # the caller talked over it (interrupt.wav starts at 0.5 s)


def test_call_ended_names_the_profile(outcome: Outcome) -> None:
    assert outcome.sales.ended["profile"] == "sales"
    assert outcome.support.ended["profile"] == "support"
    answered = [line for line in outcome.lines if line["event"] == "webhook.answered"]
    assert {(line["to"], line["profile"]) for line in answered} == {
        (SALES_NUMBER, "sales"),
        (SUPPORT_NUMBER, "support"),
    }
    assert len([line for line in outcome.lines if line["event"] == "call.ended"]) == 2


def test_an_unlisted_number_gets_the_fallback(outcome: Outcome) -> None:
    report = outcome.unlisted
    assert report.outcome is CallOutcome.NO_STREAM
    assert report.webhook_status == 200
    assert report.stream_url is None
    assert [(verb.kind, verb.text) for verb in report.verbs_before] == [
        ("Say", FALLBACK_MESSAGE),
        ("Hangup", ""),
    ]
    refused = [line for line in outcome.lines if line["event"] == "webhook.refused"]
    assert [(r["call_sid"], r["reason"], r["to"]) for r in refused] == [
        (report.call_sid, "no agent", UNLISTED_NUMBER)
    ]


# ------------------------------------------------------------------------------ usage, cost


@pytest.mark.parametrize(("name", "model", "usage_messages"), [
    ("sales", NATIVE, 1),  # the greeting and the first answer were interrupted: no usage
    ("support", FLASH_31, 3),  # answer, answer to the key press, answer
])  # fmt: skip
def test_usage_is_the_sum_of_what_live_reported(
    outcome: Outcome, name: str, model: str, usage_messages: int
) -> None:
    call: Call = getattr(outcome, name)
    expected = _expected_usage(call.sent)
    assert expected["messages"] == usage_messages
    usage = call.ended["usage"]
    assert usage == expected
    assert expected["prompt_tokens"] > 0
    assert expected["response_tokens"] > 0
    assert expected["prompt_by_modality"] == {"audio": expected["prompt_tokens"]}
    assert expected["response_by_modality"] == {"audio": expected["response_tokens"]}
    for kind in ("prompt", "response", "total"):
        assert call.ended[f"{kind}_tokens"] == expected[f"{kind}_tokens"]
    # The estimate: audio tokens at the model's own audio prices, per million.
    prices = PRICES[model]
    amount = (
        expected["prompt_tokens"] * prices["prompt_audio"]
        + expected["response_tokens"] * prices["response_audio"]
    ) / 1_000_000
    assert call.ended["cost"] == {
        "currency": "USD",
        "amount": float(round(amount, 6)),
        "model": model,
        "unpriced_tokens": 0,
    }


# ---------------------------------------------------------------------------- recordings


def test_only_the_recorded_profile_wrote_files(outcome: Outcome) -> None:
    call_sid = outcome.sales.call_sid
    ended = outcome.sales.ended
    started = datetime.datetime.fromisoformat(_transcript(outcome)["started_at"])
    day = outcome.recordings / started.strftime("%Y-%m-%d")
    digest = hashlib.sha256(call_sid.encode()).hexdigest()[:12]  # keeps punctuation apart
    stem = f"{started.strftime('%H%M%S')}-twilio-{call_sid}-{digest}"
    # Nothing for the support call (its profile records nothing), nothing left half-written;
    # with its audio, the recorded call's report (docs/softphone.md#the-call-report).
    assert outcome.recording_files == [
        day / f"{stem}.html",
        day / f"{stem}.json",
        day / f"{stem}.wav",
    ]
    written = [line for line in outcome.lines if line["event"] == "recording.written"]
    assert [(w["call_sid"], w["audio"], w["transcript"], w["report"]) for w in written] == [
        (call_sid, str(day / f"{stem}.wav"), str(day / f"{stem}.json"), str(day / f"{stem}.html"))
    ]
    assert ended["end_reason"] == "carrier stop"


def _transcript(outcome: Outcome) -> dict[str, Any]:
    path = next(p for p in outcome.recording_files if p.suffix == ".json")
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _recording(outcome: Outcome) -> npt.NDArray[np.int64]:
    path = next(p for p in outcome.recording_files if p.suffix == ".wav")
    rate, frames = _read_stereo(path)
    assert rate == RATE_HZ
    return frames


def test_the_recordings_left_channel_is_what_the_caller_said(outcome: Outcome) -> None:
    left = _recording(outcome)[:, 0]
    said, heard = outcome.said, outcome.heard
    frames_sent = outcome.sales_report["media_frames_sent"]
    assert len(left) == frames_sent * FRAME
    assert len(left) == round(outcome.sales.ended["caller_audio_ms"] * RATE_HZ / 1000)
    aligned, lags = _aligned(left, said)
    assert set(lags) == {0}  # caller audio is the recording's clock: no offset at all
    assert np.array_equal(left, said[: len(left)])  # μ-law decoded, bit for bit
    assert not said[len(left) :].any()
    assert _snr_db(said, aligned) >= MATCH_BAR_DB
    # The bar tells the channels apart: what was heard does not pass for what was said.
    swapped, _ = _aligned(left, heard)
    assert _snr_db(heard, swapped) < MATCH_BAR_DB


def test_the_recordings_right_channel_is_what_the_caller_heard(outcome: Outcome) -> None:
    right = _recording(outcome)[:, 1]
    said, heard = outcome.said, outcome.heard
    clears = outcome.sales_report["clears"]
    assert len(clears) == 2  # the greeting and the first answer were cut short
    assert all(clear["dropped_ms"] > 0 for clear in clears)
    heard = heard[: len(right)]
    aligned, lags = _aligned(right, heard)
    assert len(lags) >= 3  # the greeting and two answers
    # -1: the recording places a late answer by real time (ms to samples, truncated), so it may
    # land one sample (0.125 ms) after where the carrier played it.
    assert all(-1 <= lag <= MAX_LAG for lag in lags), lags
    # Where a barge-in cut the agent off, the two may disagree by the gateway's clock step.
    near_cut = np.zeros(len(heard), dtype=bool)
    for clear in clears:
        cut = _sample(clear["at_ms"])
        near_cut[max(0, cut - CUT_TOLERANCE) : cut + CUT_TOLERANCE] = True
    far = ~near_cut
    assert heard[far].any()
    assert _snr_db(heard[far], aligned[far]) >= MATCH_BAR_DB
    # Everywhere else the recording is exactly what was heard: the same μ-law bytes decoded,
    # nothing of the interrupted answers after their cuts (the carrier heard silence there).
    assert np.array_equal(aligned[far], heard[far])
    swapped, _ = _aligned(right, said[: len(right)])
    assert _snr_db(said[: len(right)][far], swapped[far]) < MATCH_BAR_DB


def test_the_transcript_is_the_call_as_the_caller_experienced_it(outcome: Outcome) -> None:
    document = _transcript(outcome)
    ended = outcome.sales.ended
    report = outcome.sales_report
    wav = next(p for p in outcome.recording_files if p.suffix == ".wav")
    assert {k: v for k, v in document.items() if k not in ("started_at", "lines")} == {
        "call_id": outcome.sales.call_sid,
        "carrier": "twilio",
        "profile": "sales",
        "from": CALLER_NUMBER,
        "to": SALES_NUMBER,
        "duration_ms": ended["duration_ms"],
        "end_reason": "carrier stop",
        "audio": wav.name,
    }
    # What the emulator said, turn by turn, and how much of each turn the caller heard: the
    # words sent after an answer's first n audio chunks, n its marks the carrier played (one
    # mark per chunk, in order; a barge-in's clear flushes the rest).
    turns = list(_turns(outcome.sales.sent))
    assert [t.interrupted for t in turns] == [True, True, False]
    assert [t.text for t in turns[2:]] == [REPLIES[2]]
    clears = [clear["at_ms"] for clear in report["clears"]]
    bounds = [float("-inf"), *clears, float("inf")]
    expected_agent = []
    for index, turn in enumerate(turns):
        marks = [m for m in report["marks"] if bounds[index] < m["sent_ms"] < bounds[index + 1]]
        played = [m["played"] for m in marks]
        count = played.count(True)
        assert played == [True] * count + [False] * (len(played) - count)
        if turn.interrupted:
            assert 0 < count < len(turn.pieces)
            heard = "".join(turn.pieces[:count]).strip()
            assert heard != turn.text
            assert REPLIES[index].startswith(turn.text)
            expected_agent.append({"role": "agent", "text": heard, "generated": turn.text})
        else:
            assert count >= len(turn.pieces)  # every chunk's mark (and the ring-out's)
            expected_agent.append({"role": "agent", "text": turn.text})
    said = _inputs(outcome.sales.sent)
    assert said == list(TRANSCRIPTS)
    expected = [
        expected_agent[0],
        {"role": "caller", "text": said[0]},
        expected_agent[1],
        {"role": "caller", "text": said[1]},
        expected_agent[2],
    ]
    lines = document["lines"]
    assert [{k: v for k, v in line.items() if k != "at_ms"} for line in lines] == expected
    at = [line["at_ms"] for line in lines]
    assert at == sorted(at)
    assert len(set(at)) == len(at)
    # A caller's words are transcribed after they were said.
    utterances = load_recording(RECORDINGS / "interrupt.wav").script.utterances
    assert at[1] > utterances[0].end_ms
    assert at[3] > utterances[1].end_ms


# ---------------------------------------------------------------- a refused option at start-up


async def test_a_profile_its_model_refuses_stops_start_up(tmp_path: Path) -> None:
    (tmp_path / "agents.toml").write_text(
        f"""
[profiles.warm]
numbers = ["{SALES_NUMBER}"]
model = "{FLASH_31}"
affective_dialog = true
""",
        encoding="utf-8",
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "TWILIO_"))}
    environ.pop("GEMINI_API_KEY", None)
    environ.update(
        {
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "GATEWAY_LIVE_URL": "ws://127.0.0.1:9/live",
            "GATEWAY_AGENTS_FILE": str(tmp_path / "agents.toml"),
        }
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "serve", "--host", "127.0.0.1",
        "--port", str(free_port()),
        env=environ, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode == 2
    lines = json_lines(out.decode())
    invalid = [line for line in lines if line["event"] == "config.invalid"]
    assert len(invalid) == 1
    assert invalid[0]["level"] == "error"
    message = invalid[0]["error"]
    assert message.startswith('agents.toml: profile "warm": affective_dialog: ')
    assert FLASH_31 in message
    events = [line["event"] for line in lines]
    assert "gateway.starting" not in events  # it never listened
    assert [line["event"] for line in lines if line["level"] in ("error", "critical")] == [
        "config.invalid"
    ]
    assert "Traceback" not in out.decode() + err.decode()

"""One emulated Live connection's behaviour: synchronous, clock-free (time is an argument).

`Conversation` takes validated client messages (`receive`) and the passage of time (`tick`) and
returns what the server does: `Send` a camelCase message (always a binary frame) or `Close` with a
code and reason. The async server owns sockets and timers; everything decided lives here.

Turn-taking, as production does it with automatic activity detection:
caller speech (energy VAD) -> end of speech -> `inputTranscription` -> after `reply_delay_ms` the
answer's audio chunks with `outputTranscription` words -> `generationComplete` -> at the end of
real-time playback `turnComplete` (+ `usageMetadata`) -> a fresh resumption handle.
Caller speech during an answer: `interrupted`, then `turnComplete` (no `generationComplete`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from gateway.emulator.config import EmulatorConfig, ReplyMode
from gateway.emulator.recorder import SessionRecord
from gateway.emulator.replies import OUTPUT_RATE_HZ, Reply, echo_audio, tone_audio
from gateway.emulator.scenario import Scenario, ToolCallRule
from gateway.emulator.uplink import AudioWindow
from gateway.emulator.vad import EnergyVad, VadChange, vad_settings_for
from gateway.live.wire import b64decode_any, get_field, pcm_rate_hz

__all__ = ["Close", "Conversation", "Memory", "Output", "Send"]

DEADLINE_REASON = "Deadline expired before operation could complete."
INVALID_ARGUMENT = "Request contains an invalid argument."
TOKENS_PER_AUDIO_S = 25


@dataclass(frozen=True)
class Send:
    message: dict[str, Any]


@dataclass(frozen=True)
class Close:
    code: int
    reason: str


Output = Send | Close


@dataclass(frozen=True)
class Memory:
    """What a resumption handle restores: the session's conversation so far."""

    caller_turns: int = 0
    model_turns: int = 0
    heard: tuple[str, ...] = ()


@dataclass
class _PendingTool:
    call_id: str
    rule: ToolCallRule
    issue_at_s: float
    echo: npt.NDArray[np.int16] | None
    echo_rate_hz: int = 16_000
    issued: bool = False


class Conversation:
    def __init__(
        self,
        *,
        config: EmulatorConfig,
        scenario: Scenario,
        setup: dict[str, Any],
        memory: Memory,
        connection: int,
        record: SessionRecord,
        issue_handle: Callable[[Memory], str],
        now_s: float,
    ) -> None:
        self.config = config
        self.scenario = scenario
        self.memory = memory
        self.connection = connection
        self.record = record
        self._issue_handle = issue_handle
        self.started_s = now_s
        self.closed = False
        self.resumable_updates = "sessionResumption" in setup
        rtc = setup.get("realtimeInputConfig", {})
        aad = rtc.get("automaticActivityDetection", {})
        self.manual_activity = aad.get("disabled") is True
        self.barge_in = rtc.get("activityHandling") != "NO_INTERRUPTION"
        self._vad_settings = vad_settings_for(
            aad.get("startOfSpeechSensitivity"),
            aad.get("endOfSpeechSensitivity"),
            _int_or_none(aad.get("prefixPaddingMs")),
            _int_or_none(aad.get("silenceDurationMs")),
            config.vad_threshold_dbfs,
        )
        self._vad = EnergyVad(self._vad_settings)
        self._manual_speaking = False
        self._window = self._new_window(16_000)
        self._speech_start = 0
        self._carry: npt.NDArray[np.int16] | None = None
        self._last_audio_s = now_s
        self._reply: Reply | None = None
        self._queued: Reply | None = None
        self._pending: _PendingTool | None = None
        self._cancelled: set[str] = set()
        self._tool_ids = 0
        self._go_away_at = now_s + max(0.0, config.connection_lifetime_s - config.go_away_lead_s)
        self._deadline_at = now_s + config.connection_lifetime_s
        self._go_away_sent = False
        self._actions_done: set[int] = set()
        self._prompt_s = 0.0

    # ---------------------------------------------------------------------------- public

    def start(self) -> list[Output]:
        out: list[Output] = [Send({"setupComplete": {}})]
        out.extend(self._resumption_update(resumable=True))
        return out

    def receive(self, kind: str, body: dict[str, Any], now_s: float) -> list[Output]:
        """One validated, camelCase client message (kind as in schema.normalise_client_message)."""
        if self.closed:
            return []
        if kind == "setup":
            return self._close(1007, f"{INVALID_ARGUMENT} Setup must be the first message only.")
        if kind == "realtimeInput":
            out: list[Output] = []
            for field, value in body.items():
                out.extend(self._realtime(field, value, now_s))
                if any(isinstance(o, Close) for o in out):
                    break
            return out
        if kind == "toolResponse":
            return self._tool_response(body, now_s)
        if kind == "clientContent":
            return self._client_content(body, now_s)
        return []  # contextUpdate: accepted and recorded, no behaviour

    def tick(self, now_s: float) -> list[Output]:
        """Everything due by `now_s`."""
        if self.closed:
            return []
        out: list[Output] = []
        if now_s >= self._deadline_at:
            return self._close(1011, DEADLINE_REASON)
        if not self._go_away_sent and now_s >= self._go_away_at:
            self._go_away_sent = True
            left = min(self.config.go_away_lead_s, self.config.connection_lifetime_s)
            out.append(Send({"goAway": {"timeLeft": _duration(left)}}))
        for index, action in enumerate(self.scenario.actions):
            if index in self._actions_done or not action.applies_to(self.connection):
                continue
            if now_s - self.started_s >= action.at_s:
                self._actions_done.add(index)
                if action.action == "close":
                    return out + self._close(action.code, action.reason)
                out.append(Send({"goAway": {"timeLeft": _duration(action.time_left_s)}}))
        if (
            self._vad.speaking
            and now_s - self._last_audio_s >= self._vad_settings.silence_ms / 1000
        ):
            change = self._vad.force_end()
            if change is not None:
                out.extend(self._speech_ended(change.at_sample, now_s))
        pending = self._pending
        if pending is not None and not pending.issued and now_s >= pending.issue_at_s:
            pending.issued = True
            out.extend(self._resumption_update(resumable=False))
            call = {
                "id": pending.call_id,
                "name": pending.rule.name,
                "args": dict(pending.rule.args),
            }
            out.append(Send({"toolCall": {"functionCalls": [call]}}))
        out.extend(self._advance_reply(now_s))
        return out

    def next_wakeup_s(self) -> float | None:
        """The next time `tick` has something to do (None: nothing scheduled)."""
        times = [self._deadline_at]
        if not self._go_away_sent:
            times.append(self._go_away_at)
        for index, action in enumerate(self.scenario.actions):
            if index not in self._actions_done and action.applies_to(self.connection):
                times.append(self.started_s + action.at_s)
        if self._vad.speaking:
            times.append(self._last_audio_s + self._vad_settings.silence_ms / 1000)
        if self._pending is not None and not self._pending.issued:
            times.append(self._pending.issue_at_s)
        if self._reply is not None:
            times.append(self._reply.next_due_s())
        return min(times)

    @property
    def resumable(self) -> bool:
        """True at a turn boundary: no answer in flight and no tool call pending."""
        speaking = self._vad.speaking or self._manual_speaking
        return self._reply is None and self._pending is None and not speaking

    # ------------------------------------------------------------------------- realtime

    def _realtime(self, field: str, value: Any, now_s: float) -> list[Output]:
        if field in {"audio", "mediaChunks"}:
            blobs = value if isinstance(value, list) else [value]
            out: list[Output] = []
            for blob in blobs:
                out.extend(self._audio(blob, now_s))
            return out
        if field == "text" and isinstance(value, str):
            return self._text(value, now_s)
        if field == "audioStreamEnd" and value is True:
            change = self._vad.force_end()
            return [] if change is None else self._speech_ended(change.at_sample, now_s)
        if field in {"activityStart", "activityEnd"}:
            if not self.manual_activity:
                return self._close(
                    1007,
                    "Explicit activity control is not supported when automatic activity "
                    "detection is enabled.",
                )
            if field == "activityStart" and not self._manual_speaking:
                self._manual_speaking = True
                return self._speech_started(self._window.end, now_s)
            if field == "activityEnd" and self._manual_speaking:
                self._manual_speaking = False
                return self._speech_ended(self._window.end, now_s)
            return []
        return []  # video: accepted, ignored

    def _audio(self, blob: Any, now_s: float) -> list[Output]:
        mime = get_field(blob, "mimeType") if isinstance(blob, dict) else None
        rate = pcm_rate_hz(mime, 16_000)
        if rate is None:
            return self._close(1007, f"{INVALID_ARGUMENT} Unsupported MIME type: {str(mime)[:40]}")
        pcm = b64decode_any(get_field(blob, "data") or "")
        if pcm is None:
            return self._close(1007, "Invalid value at 'realtime_input.audio.data' (TYPE_BYTES)")
        samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.int16)
        self.record.add_audio(self.connection, samples, rate)
        pending = self._pending
        if pending is not None and pending.issued and self.scenario.abort_audio_during_tool_call:
            return self._close(1008, "The operation was aborted.")
        self._last_audio_s = now_s
        if rate != self._vad.rate_hz:  # a rate change starts a fresh stream
            self._vad = EnergyVad(self._vad_settings, rate)
            self._window = self._new_window(rate)
        self._window.append(samples, keep_all=self._vad.speaking or self._manual_speaking)
        if self.manual_activity:
            return []
        out: list[Output] = []
        for change in self._vad.process(samples):
            out.extend(self._vad_change(change, now_s))
        return out

    def _vad_change(self, change: VadChange, now_s: float) -> list[Output]:
        if change.speaking:
            return self._speech_started(change.at_sample, now_s)
        return self._speech_ended(change.at_sample, now_s)

    # --------------------------------------------------------------------------- turns

    def _speech_started(self, at_sample: int, now_s: float) -> list[Output]:
        self._speech_start = at_sample
        out: list[Output] = []
        pending = self._pending
        if pending is not None:
            if not pending.issued:
                self._pending = None  # the caller kept talking: the turn goes on
                if pending.echo is not None:
                    self._carry = pending.echo
                    self.memory = replace(self.memory, caller_turns=self.memory.caller_turns - 1)
            elif pending.rule.cancel_on_barge_in:
                self._pending = None
                self._cancelled.add(pending.call_id)
                out.append(Send({"toolCallCancellation": {"ids": [pending.call_id]}}))
        reply = self._reply
        if reply is not None and not reply.started:
            self._reply = None  # not audible yet: drop it (a spoken turn goes on)
            if reply.source is not None:
                self._carry = reply.source
                self.memory = replace(self.memory, caller_turns=self.memory.caller_turns - 1)
        elif reply is not None and self.barge_in:
            out.extend(self._interrupt())
        return out

    def _interrupt(self) -> list[Output]:
        self._reply = None
        self._queued = None
        self.memory = replace(self.memory, model_turns=self.memory.model_turns + 1)
        out: list[Output] = [
            Send({"serverContent": {"interrupted": True}}),
            Send({"serverContent": {"turnComplete": True}}),
        ]
        out.extend(self._resumption_update(resumable=True))
        return out

    def _speech_ended(self, at_sample: int, now_s: float) -> list[Output]:
        rate = self._window.rate_hz
        pad = round(0.1 * rate)
        utterance = self._window.slice(self._speech_start - pad, at_sample)
        if self._carry is not None:
            utterance = np.concatenate([self._carry, utterance])
            self._carry = None
        turn = self.memory.caller_turns + 1
        duration_s = len(utterance) / rate
        self._prompt_s += duration_s
        self.memory = replace(
            self.memory,
            caller_turns=turn,
            heard=(*self.memory.heard, f"caller turn {turn}: {duration_s:.2f} s of audio"),
        )
        base = self.record.audio_samples - self._window.end
        self.record.utterances.append((base + self._speech_start, base + at_sample))
        texts = self.scenario.transcripts
        text = (
            texts[turn - 1] if turn <= len(texts) else f"[caller turn {turn}, {duration_s:.1f} s]"
        )
        out: list[Output] = [Send({"serverContent": {"inputTranscription": {"text": text}}})]
        rule = self.scenario.rule_for_turn(turn)
        if rule is not None:
            self._start_tool_call(rule, now_s, echo=utterance, echo_rate_hz=rate)
            return out
        if self.config.mode is ReplyMode.ECHO:
            audio = echo_audio(utterance, rate)
        else:
            audio = tone_audio(duration_s, self.config.tone_hz, self.config.tone_dbfs)
        self._schedule(audio, now_s, source=utterance)
        return out

    def _text(self, text: str, now_s: float) -> list[Output]:
        self.record.texts.append(text)
        self.memory = replace(self.memory, heard=(*self.memory.heard, f"text: {text}"))
        out: list[Output] = []
        if self._reply is not None and self._reply.started:
            out.extend(self._interrupt())
        rule = self.scenario.rule_for_text(text)
        if rule is not None and self._pending is None:
            self._start_tool_call(rule, now_s, echo=None)
            return out
        self._schedule(self._fixed_tone(self.config.text_reply_ms), now_s)
        return out

    def _client_content(self, body: dict[str, Any], now_s: float) -> list[Output]:
        turns = body.get("turns", [])
        for turn in turns if isinstance(turns, list) else []:
            parts = turn.get("parts", []) if isinstance(turn, dict) else []
            texts = [p.get("text", "") for p in parts if isinstance(p, dict)]
            line = f"{turn.get('role', 'user')}: {' '.join(texts)}"
            self.memory = replace(self.memory, heard=(*self.memory.heard, line))
        if body.get("turnComplete") is True:
            out = self._interrupt() if self._reply is not None and self._reply.started else []
            self._schedule(self._fixed_tone(self.config.text_reply_ms), now_s)
            return out
        return []

    # ---------------------------------------------------------------------------- tools

    def _start_tool_call(
        self,
        rule: ToolCallRule,
        now_s: float,
        echo: npt.NDArray[np.int16] | None,
        echo_rate_hz: int = 16_000,
    ) -> None:
        self._tool_ids += 1
        call_id = f"function-call-{self.record.session_id[:8]}-{self.connection}-{self._tool_ids}"
        delay = self.config.reply_delay_ms / 1000
        self._pending = _PendingTool(call_id, rule, now_s + delay, echo, echo_rate_hz)

    def _tool_response(self, body: dict[str, Any], now_s: float) -> list[Output]:
        responses = body.get("functionResponses", [])
        for response in responses if isinstance(responses, list) else []:
            self.record.tool_responses.append(response)
            call_id = response.get("id")
            pending = self._pending
            if not isinstance(call_id, str) or not call_id:
                return self._close(1007, f"{INVALID_ARGUMENT} A function response needs its id.")
            if pending is not None and pending.issued and call_id == pending.call_id:
                self._pending = None
                line = f"tool {pending.rule.name} ({call_id}): {response.get('response')}"
                self.memory = replace(self.memory, heard=(*self.memory.heard, line))
                rule = pending.rule
                if rule.say_ms is not None:
                    audio = self._fixed_tone(rule.say_ms)
                elif pending.echo is not None and len(pending.echo):
                    audio = (
                        echo_audio(pending.echo, pending.echo_rate_hz)
                        if self.config.mode is ReplyMode.ECHO
                        else tone_audio(
                            len(pending.echo) / pending.echo_rate_hz,
                            self.config.tone_hz,
                            self.config.tone_dbfs,
                        )
                    )
                else:
                    audio = self._fixed_tone(self.config.text_reply_ms)
                self._schedule(audio, now_s, text=rule.say_text or None)
            elif call_id not in self._cancelled:
                return self._close(1007, f"{INVALID_ARGUMENT} Unknown function call id.")
        return []

    # --------------------------------------------------------------------------- replies

    def _fixed_tone(self, duration_ms: int) -> npt.NDArray[np.int16]:
        return tone_audio(duration_ms / 1000, self.config.tone_hz, self.config.tone_dbfs)

    def _schedule(
        self,
        audio: npt.NDArray[np.int16],
        now_s: float,
        text: str | None = None,
        source: npt.NDArray[np.int16] | None = None,
    ) -> None:
        minimum = round(self.config.min_reply_ms * OUTPUT_RATE_HZ / 1000)
        if len(audio) < minimum:
            audio = np.concatenate([audio, np.zeros(minimum - len(audio), dtype=np.int16)])
        turn = self.memory.model_turns + 1
        if text is None:
            replies = self.scenario.replies
            text = replies[turn - 1] if turn <= len(replies) else f"[model turn {turn}]"
        start = now_s + self.config.reply_delay_ms / 1000
        current = self._reply
        if current is not None and current.started:
            start = max(start, current.end_s)  # NO_INTERRUPTION: speak after the current turn
        reply = Reply(
            start_s=start,
            samples=audio,
            text=text,
            chunk_samples=max(1, OUTPUT_RATE_HZ * self.config.chunk_ms // 1000),
            lead_s=self.config.lead_ms / 1000,
            source=source,
        )
        if current is not None and current.started:
            self._queued = reply
        else:
            self._reply = reply

    def _advance_reply(self, now_s: float) -> list[Output]:
        out: list[Output] = []
        reply = self._reply
        while reply is not None and now_s >= reply.next_due_s():
            if not reply.started:
                out.extend(self._resumption_update(resumable=False))
            out.extend(Send(message) for message in reply.take_due(now_s))
            if now_s < reply.end_s or reply.next_chunk < reply.chunk_count:
                break
            self.record.model_audio_samples += len(reply.samples)
            self.memory = replace(self.memory, model_turns=self.memory.model_turns + 1)
            out.append(Send({"serverContent": {"turnComplete": True}, **self._usage(reply)}))
            self._reply, self._queued = self._queued, None
            reply = self._reply
            if self._pending is None:
                out.extend(self._resumption_update(resumable=True))
        return out

    def _usage(self, reply: Reply) -> dict[str, Any]:
        prompt = round(self._prompt_s * TOKENS_PER_AUDIO_S)
        response = round(reply.duration_s * TOKENS_PER_AUDIO_S)
        self._prompt_s = 0.0
        return {
            "usageMetadata": {
                "promptTokenCount": prompt,
                "responseTokenCount": response,
                "totalTokenCount": prompt + response,
                "promptTokensDetails": [{"modality": "AUDIO", "tokenCount": prompt}],
                "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": response}],
            }
        }

    # ------------------------------------------------------------------------- session

    def _resumption_update(self, *, resumable: bool) -> list[Output]:
        if not self.resumable_updates:
            return []
        if not resumable:
            return [Send({"sessionResumptionUpdate": {"resumable": False}})]
        handle = self._issue_handle(self.memory)
        return [Send({"sessionResumptionUpdate": {"newHandle": handle, "resumable": True}})]

    def _close(self, code: int, reason: str) -> list[Output]:
        self.closed = True
        return [Close(code, reason)]

    def _new_window(self, rate_hz: int) -> AudioWindow:
        idle_s = max(1.0, self._vad_settings.start_ms / 1000 + 0.5)
        return AudioWindow(rate_hz, self.config.max_utterance_s, idle_s)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _duration(seconds: float) -> str:
    """A protobuf Duration string: "50s", "1.5s"."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"{text}s"

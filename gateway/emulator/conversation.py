"""One emulated Live connection's behaviour: synchronous, clock-free (time is an argument).

`Conversation` takes validated client messages (`receive`) and the passage of time (`tick`) and
returns what the server does: `Send` a camelCase message (always a binary frame) or `Close` with a
code and reason. The async server owns sockets and timers; everything decided lives here.

Turn-taking, as production does it with automatic activity detection:
caller speech (energy VAD) -> end of speech -> `inputTranscription` -> after `reply_delay_ms` the
answer's audio chunks with `outputTranscription` words -> `generationComplete` -> at the end of
real-time playback `turnComplete` (+ `usageMetadata`) -> a fresh resumption handle.
Caller speech during an answer: `interrupted`, then `turnComplete` (no `generationComplete`).
Stream mode has no turn-taking: every audio chunk is echoed at once (gateway.emulator.stream) and
the turn ends when the audio stops (`audioStreamEnd`, or no audio for the silence duration).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from gateway.emulator.config import Backend, EmulatorConfig, ReplyMode
from gateway.emulator.lifetime import Lifetime
from gateway.emulator.outputs import Close, Memory, Output, Send
from gateway.emulator.recorder import SessionRecord
from gateway.emulator.replies import OUTPUT_RATE_HZ, echo_audio, tone_audio
from gateway.emulator.scenario import Scenario
from gateway.emulator.speaker import Finished, Speaker, Started, usage_metadata
from gateway.emulator.stream import EchoStream
from gateway.emulator.tools import Resolution, ToolCalls
from gateway.emulator.uplink import AudioWindow
from gateway.emulator.vad import EnergyVad, VadChange, vad_settings_for
from gateway.live.wire import b64decode_any, get_field, pcm_rate_hz

__all__ = ["Close", "Conversation", "Memory", "Output", "Send"]

INVALID_ARGUMENT = "Request contains an invalid argument."


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
        self._speaker = Speaker(config)
        self._stream = (
            EchoStream(OUTPUT_RATE_HZ * config.chunk_ms // 1000)
            if config.mode is ReplyMode.STREAM
            else None
        )
        send_ids = config.backend is not Backend.VERTEX or config.vertex_call_ids
        self._tools = ToolCalls(
            f"function-call-{record.session_id[:8]}-{connection}", send_ids=send_ids
        )
        self._lifetime = Lifetime(config, scenario.actions, connection, now_s)
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
            return self._unless_silenced(out)
        if kind == "toolResponse":
            return self._unless_silenced(self._tool_response(body, now_s))
        if kind == "clientContent":
            return self._unless_silenced(self._client_content(body, now_s))
        return []  # contextUpdate: accepted and recorded, no behaviour

    def tick(self, now_s: float) -> list[Output]:
        """Everything due by `now_s`."""
        if self.closed:
            return []
        out = self._lifetime.due(now_s)
        if out and isinstance(out[-1], Close):
            self.closed = True
            return self._unless_silenced(out)
        silent = now_s - self._last_audio_s >= self._vad_settings.silence_ms / 1000
        if self._stream is not None and self._stream.in_turn and silent:
            out.extend(self._end_stream_turn())
        if self._vad.speaking and silent:
            change = self._vad.force_end()
            if change is not None:
                out.extend(self._speech_ended(change.at_sample, now_s))
        issued = self._tools.due(now_s)
        if issued is not None:
            out.extend(self._resumption_update(resumable=False))
            out.append(Send(issued.message()))
        out.extend(self._advance_reply(now_s))
        return self._unless_silenced(out)

    def _unless_silenced(self, out: list[Output]) -> list[Output]:
        """After a scenario's `silence` action only closes go out (a stalled session)."""
        if not self._lifetime.silenced:
            return out
        return [output for output in out if isinstance(output, Close)]

    def next_wakeup_s(self) -> float | None:
        """The next time `tick` has something to do (None: nothing scheduled)."""
        times = [self._lifetime.next_s()]
        if self._vad.speaking or (self._stream is not None and self._stream.in_turn):
            times.append(self._last_audio_s + self._vad_settings.silence_ms / 1000)
        tool_s = self._tools.next_s()
        if tool_s is not None:
            times.append(tool_s)
        reply_s = self._speaker.next_s()
        if reply_s is not None:
            times.append(reply_s)
        return min(times)

    @property
    def resumable(self) -> bool:
        """True at a turn boundary: no answer in flight and no tool call pending."""
        speaking = self._vad.speaking or self._manual_speaking
        speaking = speaking or (self._stream is not None and self._stream.in_turn)
        return self._speaker.current is None and self._tools.pending is None and not speaking

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
            if self._stream is not None:
                return self._end_stream_turn() if self._stream.in_turn else []
            change = self._vad.force_end()
            return [] if change is None else self._speech_ended(change.at_sample, now_s)
        if field in {"activityStart", "activityEnd"}:
            if not self.manual_activity:
                return self._close(
                    1007,
                    "Explicit activity control is not supported when automatic activity "
                    "detection is enabled.",
                )
            if self._stream is not None:  # no turn-taking: the audio itself is the turn
                return []
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
        pending = self._tools.pending
        if pending is not None and pending.issued and self.scenario.abort_audio_during_tool_call:
            return self._close(1008, "The operation was aborted.")
        self._last_audio_s = now_s
        if self._stream is not None:
            return self._stream_audio(samples, rate)
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
        withdrawn = self._tools.withdraw_unissued()  # the caller kept talking: the turn goes on
        if withdrawn is not None and withdrawn.echo is not None:
            self._carry = withdrawn.echo
            self.memory = replace(self.memory, caller_turns=self.memory.caller_turns - 1)
        cancelled = self._tools.cancel_on_barge_in()
        if cancelled is not None:  # a call sent without an id can only be named by no ids
            ids = {"ids": [cancelled]} if self._tools.sends_ids else {}
            out.append(Send({"toolCallCancellation": ids}))
        dropped = self._speaker.drop_unstarted()  # not audible yet: a spoken turn goes on
        if dropped is not None and dropped.source is not None:
            self._carry = dropped.source
            self.memory = replace(self.memory, caller_turns=self.memory.caller_turns - 1)
        elif self._speaker.audible and self.barge_in:
            out.extend(self._interrupt())
        return out

    def _interrupt(self) -> list[Output]:
        self._speaker.clear()
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
            issue_at_s = now_s + self.config.reply_delay_ms / 1000
            self._tools.start(rule, issue_at_s, echo=utterance, echo_rate_hz=rate)
            return out
        self._schedule(self._answer_audio(utterance, rate), now_s, source=utterance)
        return out

    def _text(self, text: str, now_s: float) -> list[Output]:
        self.record.texts.append(text)
        self.memory = replace(self.memory, heard=(*self.memory.heard, f"text: {text}"))
        out: list[Output] = []
        if self._speaker.audible:
            out.extend(self._interrupt())
        rule = self.scenario.rule_for_text(text)
        if rule is not None and self._tools.pending is None:
            self._tools.start(rule, now_s + self.config.reply_delay_ms / 1000, echo=None)
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
            out = self._interrupt() if self._speaker.audible else []
            self._schedule(self._fixed_tone(self.config.text_reply_ms), now_s)
            return out
        return []

    # ---------------------------------------------------------------------------- tools

    def _tool_response(self, body: dict[str, Any], now_s: float) -> list[Output]:
        responses = body.get("functionResponses", [])
        for response in responses if isinstance(responses, list) else []:
            self.record.tool_responses.append(response)
            call_id = response.get("id")
            idless = call_id is None and self.config.backend is Backend.VERTEX  # Vertex takes it
            if not idless and (not isinstance(call_id, str) or not call_id):
                return self._close(1007, f"{INVALID_ARGUMENT} A function response needs its id.")
            resolution, pending = self._tools.resolve(call_id, response.get("name"))
            if resolution is Resolution.UNKNOWN:
                return self._close(1007, f"{INVALID_ARGUMENT} Unknown function call id.")
            if pending is not None:
                line = f"tool {pending.rule.name} ({call_id}): {response.get('response')}"
                self.memory = replace(self.memory, heard=(*self.memory.heard, line))
                rule = pending.rule
                if rule.say_ms is not None:
                    audio = self._fixed_tone(rule.say_ms)
                elif pending.echo is not None and len(pending.echo):
                    audio = self._answer_audio(pending.echo, pending.echo_rate_hz)
                else:
                    audio = self._fixed_tone(self.config.text_reply_ms)
                self._schedule(audio, now_s, text=rule.say_text or None)
        return []

    # --------------------------------------------------------------------------- replies

    def _answer_audio(
        self, utterance: npt.NDArray[np.int16], rate_hz: int
    ) -> npt.NDArray[np.int16]:
        """The answer to an utterance: the utterance itself at 24 kHz, or a tone as long."""
        if self.config.mode is ReplyMode.ECHO:
            return echo_audio(utterance, rate_hz)
        return tone_audio(len(utterance) / rate_hz, self.config.tone_hz, self.config.tone_dbfs)

    def _fixed_tone(self, duration_ms: int) -> npt.NDArray[np.int16]:
        return tone_audio(duration_ms / 1000, self.config.tone_hz, self.config.tone_dbfs)

    def _schedule(
        self,
        audio: npt.NDArray[np.int16],
        now_s: float,
        text: str | None = None,
        source: npt.NDArray[np.int16] | None = None,
    ) -> None:
        if text is None:
            turn = self.memory.model_turns + 1
            replies = self.scenario.replies
            text = replies[turn - 1] if turn <= len(replies) else f"[model turn {turn}]"
        self._speaker.schedule(audio, text, now_s, source)

    def _advance_reply(self, now_s: float) -> list[Output]:
        out: list[Output] = []
        for step in self._speaker.advance(now_s):
            if isinstance(step, Started):
                out.extend(self._resumption_update(resumable=False))
            elif isinstance(step, Finished):
                self.record.model_audio_samples += len(step.reply.samples)
                self.memory = replace(self.memory, model_turns=self.memory.model_turns + 1)
                usage = usage_metadata(self._prompt_s, step.reply.duration_s)
                self._prompt_s = 0.0
                out.append(Send({"serverContent": {"turnComplete": True}, "usageMetadata": usage}))
                if self._tools.pending is None:
                    out.extend(self._resumption_update(resumable=True))
            else:
                out.append(Send(step))
        return out

    # ---------------------------------------------------------------------------- stream

    def _stream_audio(self, samples: npt.NDArray[np.int16], rate_hz: int) -> list[Output]:
        """Stream mode: the echo of these samples, in whole chunks, at once."""
        assert self._stream is not None
        out: list[Output] = []
        if not self._stream.in_turn:
            out.extend(self._resumption_update(resumable=False))
        out.extend(Send(message) for message in self._stream.feed(samples, rate_hz))
        return out

    def _end_stream_turn(self) -> list[Output]:
        """Stream mode: the rest of the echo, `generationComplete`, `turnComplete` with usage."""
        assert self._stream is not None
        out: list[Output] = [Send(message) for message in self._stream.end_turn()]
        heard_s, said_s = self._stream.reset_turn_counts()
        self.record.model_audio_samples += round(said_s * OUTPUT_RATE_HZ)
        self.memory = replace(
            self.memory,
            caller_turns=self.memory.caller_turns + 1,
            model_turns=self.memory.model_turns + 1,
            heard=(*self.memory.heard, f"caller stream: {heard_s:.2f} s of audio"),
        )
        usage = usage_metadata(heard_s, said_s)
        out.append(Send({"serverContent": {"generationComplete": True}}))
        out.append(Send({"serverContent": {"turnComplete": True}, "usageMetadata": usage}))
        if self._tools.pending is None:
            out.extend(self._resumption_update(resumable=True))
        return out

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

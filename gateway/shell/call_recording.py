"""One call's transcript and stereo recording, written to the recordings directory as it goes.

Only calls whose agent profile opted in get a `CallRecording` (docs/agents.md). The call runner
feeds it what the carrier said and what was queued or cleared at the carrier (`caller`, `agent`,
`clear`: cheap, synchronous); `run()` moves the settled stereo frames to disk about once a second
in a worker thread, so a long call never sits in memory; `finish()` writes the rest, completes
the WAV and writes the transcript JSON and, with the audio, the call's HTML report
(`gateway.shell.call_report`, from the timeline `observe` collects). `abort()` discards a
recording that cannot be finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gateway.agents.profile import AgentProfile
from gateway.core.events import (
    BridgeEvent,
    CallStarted,
    ClearPlayback,
    Command,
    PlaceMark,
    PlayAudio,
)
from gateway.core.recording import CallRecorder
from gateway.core.transcript import TranscriptLine, as_heard
from gateway.log import get_logger
from gateway.reports.timeline import CallTimeline
from gateway.shell.call_report import write_call_report
from gateway.shell.recordings import RecordingPaths, RecordingStore, WavWriter, write_transcript

__all__ = ["CallRecording", "transcript_document"]

_log = get_logger(component="recordings")
FLUSH_INTERVAL_S = 1.0


class CallRecording:
    """The files of one recorded call (see the module doc). Create at the stream's `start`."""

    def __init__(
        self,
        store: RecordingStore,
        profile: AgentProfile,
        carrier: str,
        started: CallStarted,
        *,
        from_number: str | None = None,
        to_number: str | None = None,
        wall_clock_s: Callable[[], float] = time.time,
    ) -> None:
        self.profile = profile
        self.from_number = from_number
        self.to_number = to_number
        self.carrier = carrier
        self.call_id = started.call_id
        self.started_at_s = wall_clock_s()
        self.paths: RecordingPaths = store.paths(carrier, started.call_id, self.started_at_s)
        self.recorder: CallRecorder | None = None
        self._writer: WavWriter | None = None
        if profile.record_audio:
            self.recorder = CallRecorder(started.media_format)
            self._writer = WavWriter(self.paths.audio, self.recorder.rate_hz, channels=2)
        self._inflight: asyncio.Future[None] | None = None
        self._failed = False
        self.timeline = CallTimeline()
        self.report: Path | None = None
        """The call's report once written."""

    # The runner's hooks: called for every frame, so they only append.

    # `now_ms` is the event loop's clock in ms (the bridge's time base).

    def caller(self, payload: bytes, now_ms: float | None = None) -> None:
        if self.recorder is not None:
            self.recorder.caller(payload, now_ms)

    def agent(self, payload: bytes, now_ms: float | None = None) -> None:
        if self.recorder is not None:
            self.recorder.agent(payload, now_ms)

    def clear(self, now_ms: float | None = None) -> None:
        if self.recorder is not None:
            self.recorder.clear(now_ms)

    def carrier_command(
        self, command: PlayAudio | PlaceMark | ClearPlayback, now_ms: float | None = None
    ) -> None:
        """What the gateway told the carrier: audio queued, or a barge-in's clear."""
        if isinstance(command, PlayAudio):
            if not command.hold:  # hold audio is not the agent's speech (the transcript says)
                self.agent(command.payload, now_ms)
        elif isinstance(command, ClearPlayback):
            self.clear(now_ms)

    def observe(self, event: BridgeEvent, commands: Sequence[Command], now_ms: float) -> None:
        """One bridge step: its timed events join the report's timeline."""
        self.timeline.observe(event, commands, now_ms)

    async def run(self, interval_s: float = FLUSH_INTERVAL_S) -> None:
        """Write the settled audio every `interval_s` until cancelled (the call ended)."""
        if self.recorder is None:
            return
        while True:
            await asyncio.sleep(interval_s)
            await self._write(self.recorder.take())

    async def _write(self, frames: bytes) -> None:
        writer = self._writer
        if not frames or writer is None or self._failed:
            return
        await self._settle()
        loop = asyncio.get_running_loop()
        # Shielded: a cancelled call must not leave a write running while `finish` starts
        # the next one on the same file; `finish` waits for it instead.
        self._inflight = loop.run_in_executor(None, writer.write, frames)
        try:
            await asyncio.shield(self._inflight)
        except OSError as exc:
            self._failed = True
            _log.error("recording.write_failed", path=str(self.paths.audio), error=str(exc))

    async def _settle(self) -> None:
        inflight, self._inflight = self._inflight, None
        if inflight is not None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await inflight

    async def finish(
        self, summary: Mapping[str, Any], transcript: Sequence[TranscriptLine]
    ) -> None:
        """Write the rest of the audio, complete the WAV and write the transcript (if asked).

        Never raises for a disk problem: it is logged (`recording.failed`) and the call's other
        reporting goes on."""
        recorder, writer = self.recorder, self._writer
        written: dict[str, str] = {}
        try:
            if recorder is not None and writer is not None:
                await self._write(recorder.finish())
                if self._failed:
                    await asyncio.to_thread(writer.abort)
                else:
                    written["audio"] = str(await asyncio.to_thread(writer.close))
            if self.profile.record_transcript:
                document = transcript_document(
                    self, summary, transcript, audio=self.paths.audio.name if written else None
                )
                await asyncio.to_thread(write_transcript, self.paths.transcript, document)
                written["transcript"] = str(self.paths.transcript)
            if "audio" in written and self.paths.report is not None:
                self.report = await asyncio.to_thread(
                    self._write_report,
                    summary,
                    transcript if self.profile.record_transcript else (),
                )
                written["report"] = str(self.report)
        except (OSError, ValueError) as exc:
            _log.error("recording.failed", call_sid=self.call_id, error=str(exc))
            return
        heard_ms = round(recorder.agent_heard_ms, 1) if recorder is not None else None
        _log.info("recording.written", call_sid=self.call_id, agent_heard_ms=heard_ms, **written)

    def _write_report(self, summary: Mapping[str, Any], lines: Sequence[TranscriptLine]) -> Path:
        assert self.paths.report is not None
        started = datetime.datetime.fromtimestamp(self.started_at_s, tz=datetime.UTC)
        facts = {
            "call_id": self.call_id,
            "carrier": self.carrier,
            "profile": self.profile.name,
            "from": self.from_number,
            "to": self.to_number,
            "started_at": started.isoformat(timespec="seconds"),
            "end_reason": summary.get("end_reason"),
        }
        return write_call_report(
            self.paths.report,
            self.paths.audio,
            facts=facts,
            summary=summary,
            lines=as_heard(lines),
            events=self.timeline.events,
            omitted_events=self.timeline.omitted,
        )

    async def abort(self) -> None:
        """Discard the partial audio (the call never became a recorded call)."""
        await self._settle()
        if self._writer is not None:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(self._writer.abort)


def transcript_document(
    recording: CallRecording,
    summary: Mapping[str, Any],
    lines: Sequence[TranscriptLine],
    *,
    audio: str | None,
) -> dict[str, Any]:
    """The transcript file's JSON: the call, then its lines as the caller experienced them
    (`gateway.core.transcript.as_heard`)."""
    started = datetime.datetime.fromtimestamp(recording.started_at_s, tz=datetime.UTC)
    return {
        "call_id": recording.call_id,
        "carrier": recording.carrier,
        "profile": recording.profile.name,
        "from": recording.from_number,
        "to": recording.to_number,
        "started_at": started.isoformat(timespec="milliseconds"),
        "duration_ms": summary.get("duration_ms"),
        "end_reason": summary.get("end_reason"),
        "audio": audio,
        "lines": as_heard(lines),
    }

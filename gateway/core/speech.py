"""The agent's speech on its way to the caller: downlink path, local queue, marks, barge-in.

Each model audio chunk is converted to whole carrier frames and queued with a mark of its own;
the end of a generation flushes the downlink's remainder under one more mark. What may go out is
decided by `Playout` (the lead limit); what became of it by the `PlaybackLedger` (the marks).
A barge-in clears the carrier first, then drops everything held and resets the downlink, so no
audio of the interrupted turn can reach the carrier afterwards.

Overflow policy `drop-rest-of-turn`: at most `ahead_max_ms` of model audio is held ahead of the
carrier's playout (queued here plus the carrier's lead). A chunk that would pass it is cut to
what fits, before any conversion (a 7 MB chunk costs its cut, not its size), and the rest of that
generation is dropped: the caller hears the start of the answer, never a jump inside it; the
words transcribed from then on count as not heard. Dropped audio is counted
(`model_audio_dropped_ms`) and the first overflow of a call is logged
(`bridge.model_audio_overflow`). The next generation, or a barge-in, starts afresh.
"""

from __future__ import annotations

from gateway.audio.paths import CarrierFormat, DownlinkPath
from gateway.core.events import ClearPlayback, Command, Note
from gateway.core.playback import PlaybackLedger
from gateway.core.playout import Playout
from gateway.core.summary import CallStats
from gateway.core.transcript import Transcript
from gateway.live.events import AudioChunk

__all__ = ["AgentSpeech"]


class AgentSpeech:
    def __init__(
        self,
        fmt: CarrierFormat,
        *,
        lead_ms: float,
        message_frames: int = 1,
        mark_interval_ms: float = 0.0,
        ahead_max_ms: float = float("inf"),
        ledger: PlaybackLedger,
        transcript: Transcript,
        stats: CallStats,
    ) -> None:
        self.downlink = DownlinkPath(fmt.playback)
        self.playout = Playout(
            ledger,
            frame_ms=fmt.frame_ms,
            lead_ms=lead_ms,
            message_frames=message_frames,
            mark_interval_ms=mark_interval_ms,
        )
        self._ledger = ledger
        self._transcript = transcript
        self._stats = stats
        self._dirty = False  # audio went into the downlink since its last flush or reset
        self._turn_sent_from_ms = 0.0  # ledger.sent_ms when the current model turn began
        self._warned_rate = False
        self._ahead_max_ms = ahead_max_ms
        self._overflowed = False  # this generation passed the bound: the rest of it is dropped
        self._warned_overflow = False

    def chunk(self, event: AudioChunk, now_ms: float) -> list[Command]:
        """A model audio chunk: its frames and mark join the queue, then what fits goes out."""
        if event.rate_hz != self.downlink.in_rate_hz:
            return self._wrong_rate(event)
        self._stats.model_audio_ms += event.duration_ms
        out: list[Command] = []
        pcm = self._admit(event, now_ms, out)
        if pcm:
            self._dirty = True
            frames = self.downlink.process(pcm)
            if frames:  # else less than a frame so far: it goes out with the next chunk's frames
                mark = self._ledger.new_mark()
                self.playout.append(frames, mark)
                self._transcript.chunk_mark(mark)
                self.playout.release(now_ms, out)
        if self._overflowed:  # the words that come from now on belong to dropped audio
            self._transcript.audio_dropped()
        return out

    def _admit(self, event: AudioChunk, now_ms: float, out: list[Command]) -> bytes:
        """What of `event` may be held (see the overflow policy in the module doc)."""
        if self._overflowed:
            self._stats.model_audio_dropped_ms += event.duration_ms
            return b""
        ahead_ms = self.playout.ahead_ms(now_ms)
        room_ms = self._ahead_max_ms - ahead_ms
        if event.duration_ms <= room_ms:
            return event.pcm
        self._overflowed = True
        kept = max(0, int(room_ms * event.rate_hz / 1000)) * 2  # whole PCM16 samples
        pcm = event.pcm[:kept]
        self._stats.model_audio_dropped_ms += event.duration_ms - kept * 500 / event.rate_hz
        if not self._warned_overflow:
            self._warned_overflow = True
            fields = {
                "policy": "drop-rest-of-turn",
                "limit_ms": round(self._ahead_max_ms),
                "ahead_ms": round(ahead_ms, 1),
            }
            out.append(Note("bridge.model_audio_overflow", fields, "warning"))
        return pcm

    def _wrong_rate(self, event: AudioChunk) -> list[Command]:
        self._stats.model_chunks_ignored += 1
        if self._warned_rate:
            return []
        self._warned_rate = True
        return [Note("bridge.model_rate_ignored", {"rate_hz": event.rate_hz}, "warning")]

    def _flush(self) -> None:
        """Queue the rest of the generation (ring-out, last frame padded), once per turn."""
        if self._dirty:
            self._dirty = False
            frames = self.downlink.flush()
            if frames:
                self.playout.append(frames, self._ledger.new_mark())

    def finish_generation(self, now_ms: float) -> list[Command]:
        """The model has generated all of this turn's audio (`generationComplete`)."""
        out: list[Command] = []
        self._overflowed = False  # the next generation is admitted afresh
        dirty = self._dirty
        self._flush()
        playout = self.playout
        playout.finish()  # the generation's last mark goes out with its last frame
        if dirty or playout.marks_unplaced:
            playout.release(now_ms, out)
        return out

    def end_turn(self, now_ms: float) -> list[Command]:
        """The model's turn is over (`turnComplete`)."""
        out = self.finish_generation(now_ms)
        self._turn_sent_from_ms = self._ledger.sent_ms
        self._transcript.end_turn()
        return out

    def timer_fired(self, now_ms: float, *, release: bool) -> list[Command]:
        """The playback timer went off; `release` what now fits (False once the model closed)."""
        out: list[Command] = []
        self.playout.timer_fired()
        if release:
            self.playout.release(now_ms, out)
        return out

    def interrupt(self, now_ms: float) -> list[Command]:
        """Barge-in: clear the carrier, drop what is held, forget the downlink's remainder."""
        playout = self.playout
        out: list[Command] = [ClearPlayback()]
        at_carrier_ms = playout.carrier_ms(now_ms)
        turn_sent_ms = self._ledger.sent_ms - self._turn_sent_from_ms
        held_ms = playout.clear(now_ms, out)
        self._ledger.clear()
        self.downlink.reset()
        self._dirty = False
        self._overflowed = False
        self._stats.interruptions += 1
        self._stats.held_dropped_ms += held_ms
        # Estimates from the playout model; the marks' echoes settle the exact figures later.
        barge_in = {
            "played_ms": round(turn_sent_ms - min(at_carrier_ms, turn_sent_ms), 1),
            "flushed_ms": round(at_carrier_ms + held_ms, 1),
            "held_ms": round(held_ms, 1),
        }
        out.append(Note("bridge.barge_in", barge_in))
        return out

    def release_all(self, now_ms: float) -> list[Command]:
        """The model is gone and nothing can interrupt any more: send everything now."""
        out: list[Command] = []
        self._flush()
        self.playout.release(now_ms, out, unlimited=True)
        return out

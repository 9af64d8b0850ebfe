"""One media stream as the carrier runs it, without I/O: messages in, messages to send out.

`StreamSession` combines the uplink schedule, the playback model and a carrier's stream dialect.
The shell (`gateway.sim.call`) tells it the call time and what arrived; it answers with what to
send (`SendText`) and when to close (`CloseStream`), and keeps the records for the report. Time
always comes in as an argument, so the whole stream can be driven by a test with no socket.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from gateway.sim.dialect import (
    GatewayClear,
    GatewayMark,
    GatewayMedia,
    ProtocolViolation,
    StreamDialect,
)
from gateway.sim.entries import (
    ClearRecord,
    CloseRecord,
    MarkRecord,
    ReceivedMessage,
    Segment,
    SimError,
    TimelineEntry,
)
from gateway.sim.playback import MarkDue, PlaybackModel
from gateway.sim.schedule import SendDtmf, SendFrame, SendStop, UplinkSchedule
from gateway.sim.script import CALL_RATE_HZ, CallScript, DtmfPress
from gateway.sim.timeline import abbreviate

__all__ = ["PROTOCOL_CLOSE_CODE", "CloseStream", "Outgoing", "SendText", "StreamSession"]

PROTOCOL_CLOSE_CODE = 1008
"""How the simulator closes a stream after a protocol error (Twilio's own code is undocumented)."""

_MAX_LOGGED_CHARS = 300


@dataclass(frozen=True)
class SendText:
    """One message to send: text as a text frame, bytes as a binary frame."""

    text: str | bytes


@dataclass(frozen=True)
class CloseStream:
    code: int
    reason: str


Outgoing = SendText | CloseStream


def _sends(messages: str | bytes | list[str | bytes] | None) -> list[Outgoing]:
    """A dialect's answer (one message, several, or none) as messages to send in order."""
    if messages is None:
        return []
    if isinstance(messages, list):
        return [SendText(message) for message in messages]
    return [SendText(messages)]


@dataclass
class StreamRecords:
    """What the session observed (mutable while the stream runs)."""

    timeline: list[TimelineEntry] = field(default_factory=list)
    marks: list[MarkRecord] = field(default_factory=list)
    dtmf: list[DtmfPress] = field(default_factory=list)
    errors: list[SimError] = field(default_factory=list)
    messages_received: list[ReceivedMessage] = field(default_factory=list)
    media_frames_received: int = 0
    media_bytes_received: int = 0
    close: CloseRecord | None = None


class StreamSession:
    """The carrier's half of one media stream."""

    def __init__(
        self,
        stream: StreamDialect,
        script: CallScript,
        parameters: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.stream = stream
        self.parameters = parameters
        self.schedule = UplinkSchedule(script)
        self.playback = PlaybackModel()
        self.records = StreamRecords()
        self._echoed = 0  # marks are echoed in the order they were sent
        self.ending = False
        """True once the carrier decided to end (stop sent, or a protocol error): send no more."""
        self.closed = False
        self.end_ms: float | None = None

    def _note(self, t_ms: float, kind: str, detail: str) -> None:
        self.records.timeline.append(TimelineEntry(t_ms, kind, detail))

    # -- carrier side --------------------------------------------------------------------------

    def open(self, now_ms: float) -> list[Outgoing]:
        """The opening messages (sent once the WebSocket is up)."""
        connected, *rest = self.stream.opening(self.parameters)
        self._note(now_ms, "sent.connected", "")
        params = ", ".join(f"{k}={abbreviate(v)}" for k, v in self.parameters) or "none"
        self._note(now_ms, "sent.start", f"stream {self.stream.stream_sid}; parameters: {params}")
        return [SendText(connected), *(SendText(text) for text in rest)]

    def next_deadline_ms(self) -> float | None:
        """When `tick` next has something to send (None: nothing scheduled)."""
        if self.ending:
            return None
        candidates = (self.schedule.next_due_ms(), self.playback.next_due_ms())
        times = [t for t in candidates if t is not None]
        return min(times) if times else None

    def tick(self, now_ms: float) -> list[Outgoing]:
        """Everything due by `now_ms`: media frames, DTMF, mark echoes, and finally stop."""
        if self.ending:
            return []
        due: list[tuple[float, int, SendFrame | SendDtmf | SendStop | MarkDue]] = []
        due += [(item.at_ms, 0, item) for item in self.schedule.take_due(now_ms)]
        due += [(mark.due_ms, 1, mark) for mark in self.playback.due(now_ms)]
        due.sort(key=lambda entry: (entry[0], entry[1]))
        out: list[Outgoing] = []
        for at_ms, _, item in due:
            if isinstance(item, SendFrame):
                payload = self.stream.encode_audio(item.samples)
                out += _sends(self.stream.media(payload, item.timestamp_ms))
            elif isinstance(item, SendDtmf):
                self.records.dtmf.append(DtmfPress(at_ms, item.digit))
                self._note(at_ms, "sent.dtmf", item.digit)
                out.append(SendText(self.stream.dtmf(item.digit)))
            elif isinstance(item, MarkDue):
                out += self._echo(now_ms, item)
            else:
                self._note(at_ms, "sent.stop", "end of the caller's script")
                out += [*_sends(self.stream.stop()), CloseStream(1000, "")]
                self.ending = True
                self.end_ms = at_ms
                break
        return out

    def hang_up(self, now_ms: float, why: str) -> list[Outgoing]:
        """The carrier ends the call now (its REST API was told to): stop, then close."""
        if self.ending:
            return []
        self._note(now_ms, "sent.stop", why)
        self.ending = True
        self.end_ms = now_ms
        return [*_sends(self.stream.stop()), CloseStream(1000, "")]

    def _echo(self, now_ms: float, mark: MarkDue) -> list[Outgoing]:
        record = self.records.marks[self._echoed]
        self.records.marks[self._echoed] = replace(
            record, due_ms=mark.due_ms, echoed_ms=now_ms, played=mark.played
        )
        self._echoed += 1
        how = "played" if mark.played else "flushed by clear"
        self._note(now_ms, "sent.mark", f"{mark.name} ({how})")
        return _sends(self.stream.mark_echo(mark.name))

    # -- gateway side --------------------------------------------------------------------------

    def receive(self, now_ms: float, message: str | bytes) -> list[Outgoing]:
        """One message from the gateway; returns what to send because of it (echoes, close)."""
        if self.ending:
            return []  # the carrier has stopped listening
        command = self.stream.parse_gateway(message)
        if isinstance(command, GatewayMedia):
            self.records.media_frames_received += 1
            self.records.media_bytes_received += len(command.samples)
            # Marks that came due before this frame arrived are echoed now, not lost.
            return [
                out
                for mark in self.playback.feed(now_ms, command)
                for out in self._echo(now_ms, mark)
            ]
        text = message if isinstance(message, str) else repr(message)
        event = self.stream.event_name(message)
        self.records.messages_received.append(
            ReceivedMessage(now_ms, event, text[:_MAX_LOGGED_CHARS])
        )
        if isinstance(command, ProtocolViolation):
            return self._violation(now_ms, command)
        queued_ms = self.playback.queued_ms(now_ms)
        if isinstance(command, GatewayMark):
            self.records.marks.append(MarkRecord(command.name, now_ms, queued_ms))
            self._note(now_ms, "received.mark", f"{command.name} ({queued_ms:.0f} ms queued)")
        echoes = self.playback.feed(now_ms, command)
        if isinstance(command, GatewayClear):
            cleared = self.playback.clears[-1]
            detail = (
                f"dropped {cleared.dropped_ms:.0f} ms of queued audio; "
                f"{cleared.flushed_marks} mark(s) flushed"
            )
            self._note(now_ms, "received.clear", detail)
        return [out for mark in echoes for out in self._echo(now_ms, mark)]

    def _violation(self, now_ms: float, violation: ProtocolViolation) -> list[Outgoing]:
        self.records.errors.append(SimError(now_ms, violation.code, violation.reason))
        self._note(now_ms, "error", f"{violation.code}: {violation.reason}")
        self.ending = True
        self.end_ms = now_ms
        return [CloseStream(PROTOCOL_CLOSE_CODE, f"{violation.code} protocol error")]

    # -- the socket ----------------------------------------------------------------------------

    def socket_closed(self, now_ms: float, code: int | None, reason: str, by: str) -> None:
        """The WebSocket closed (`by` the gateway or the simulator)."""
        if self.closed:
            return
        self.closed = True
        self.records.close = CloseRecord(now_ms, code, reason, by)
        self._note(now_ms, "close", f"by {by}, code {code}{': ' + reason if reason else ''}")
        if self.end_ms is None:
            self.end_ms = now_ms
        self.ending = True

    @property
    def clears(self) -> list[ClearRecord]:
        return [ClearRecord(c.at_ms, c.dropped_ms, c.flushed_marks) for c in self.playback.clears]

    def playing(self) -> list[Segment]:
        """When gateway audio was coming out of the playback buffer (up to the stream's end)."""
        total = len(self.audio()[0])
        return [
            Segment(start * 1000 / CALL_RATE_HZ, end * 1000 / CALL_RATE_HZ)
            for start, end in self.playback.playing_intervals(total)
        ]

    def audio(self) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16]]:
        """(said, heard), time-aligned, up to the end of the stream."""
        said = self.schedule.sent_audio()
        end_ms = self.end_ms if self.end_ms is not None else len(said) * 1000 / CALL_RATE_HZ
        total = max(len(said), round(end_ms * CALL_RATE_HZ / 1000))
        said = np.concatenate([said, np.zeros(total - len(said), dtype=np.int16)])
        return said, self.playback.heard(total)

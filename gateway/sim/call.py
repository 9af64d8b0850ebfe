"""`place_call`: the carrier simulator's I/O shell (webhook over httpx, stream over websockets).

Decisions live in the synchronous pieces: the dialect (`gateway.sim.twilio`), the stream session
(`gateway.sim.session`: pacing schedule plus playback model). This module only moves bytes and
reads the clock. One `asyncio.TaskGroup` per call holds its two tasks: the reader (gateway
messages into the session) and the writer (the only task that sends or closes), woken by the
reader or by the session's next deadline. Every network wait has a timeout.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field, replace

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from gateway.sim.analysis import answer_latency_ms, barge_ins, speech_segments
from gateway.sim.dialect import AnswerRefusedError, CarrierDialect, StreamAnswer
from gateway.sim.entries import CallOutcome, Segment, SimError, TimelineEntry
from gateway.sim.report import CallReport
from gateway.sim.script import CALL_RATE_HZ, CallScript, SimOptions
from gateway.sim.session import CloseStream, Outgoing, StreamSession
from gateway.sim.timeline import abbreviate_url
from gateway.sim.twilio import TwilioDialect

__all__ = ["place_call"]

MAX_GATEWAY_MESSAGE_BYTES = 1024 * 1024
"""Largest message accepted from the gateway (Twilio's own limit is undocumented)."""
HANG_UP_POLL_S = 0.02
SIM_FAILURE = 0
"""`SimError.code` for failures of the link itself (a send that timed out), not Twilio codes."""


@dataclass
class _Clock:
    """Call time: wall seconds since `origin`, scaled by `speed`, in ms."""

    loop: asyncio.AbstractEventLoop
    speed: float
    origin: float = 0.0

    def now_ms(self) -> float:
        return (self.loop.time() - self.origin) * 1000 * self.speed

    def delay_s(self, at_ms: float) -> float:
        return max(0.0, at_ms / 1000 / self.speed + self.origin - self.loop.time())


@dataclass
class _Link:
    ws: ClientConnection
    session: StreamSession
    clock: _Clock
    options: SimOptions
    outbox: list[Outgoing] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closing_by_us: bool = False
    hang_up: asyncio.Event | None = None
    """Set when the carrier is told to end the call (a REST hang-up): stop and close."""

    async def execute(self, items: list[Outgoing]) -> bool:
        """Send or close, in order; True once the socket is closing."""
        for item in items:
            if isinstance(item, CloseStream):
                self.closing_by_us = not self.session.closed
                await self.ws.close(item.code, item.reason)  # bounded by close_timeout
                return True
            try:
                async with asyncio.timeout(self.options.ws_send_timeout_s):
                    await self.ws.send(item.text)
            except ConnectionClosed:
                return True  # the reader records how it closed
            except TimeoutError:
                now = self.clock.now_ms()
                self.session.records.errors.append(
                    SimError(now, SIM_FAILURE, "a send timed out: the gateway is not reading")
                )
                self.closing_by_us = True
                await self.ws.close(1011, "send timed out")
                return True
        return False

    async def reader(self) -> None:
        try:
            while True:
                message = await self.ws.recv()  # ends when either side closes the socket
                out = self.session.receive(self.clock.now_ms(), message)
                if out:
                    self.outbox += out
                    self.wake.set()
        except ConnectionClosed as exc:
            frame = exc.sent if self.closing_by_us else exc.rcvd
            by = "simulator" if self.closing_by_us else "gateway"
            code, reason = (frame.code, frame.reason) if frame else (None, "no close frame")
            self.session.socket_closed(self.clock.now_ms(), code, reason, by)
            self.wake.set()

    async def writer(self) -> None:
        if await self.execute(self.session.open(self.clock.now_ms())):
            return
        while not self.session.closed:
            out, self.outbox = self.outbox, []
            if self.hang_up is not None and self.hang_up.is_set():
                out += self.session.hang_up(self.clock.now_ms(), "hung up through the REST API")
            out += self.session.tick(self.clock.now_ms())
            if await self.execute(out):
                return
            if self.outbox or self.session.closed:
                continue
            deadline = self.session.next_deadline_ms()
            self.wake.clear()
            delay = None if deadline is None else self.clock.delay_s(deadline)
            if self.hang_up is not None:  # looked at every 20 ms at most
                delay = HANG_UP_POLL_S if delay is None else min(delay, HANG_UP_POLL_S)
            try:
                async with asyncio.timeout(delay):
                    await self.wake.wait()
            except TimeoutError:
                pass


def _ssl_for(url: str, options: SimOptions) -> ssl.SSLContext | bool | None:
    if url.startswith(("wss://", "https://")):
        return options.ssl_context or True
    return None


async def place_call(
    base_url: str,
    script: CallScript,
    options: SimOptions | None = None,
    *,
    dialect: CarrierDialect | None = None,
    hang_up: asyncio.Event | None = None,
) -> CallReport:
    """Call the gateway at `base_url` as the carrier would, play `script`, report what happened.

    `hang_up`: set when the call is to end before the script does (the callee side of a
    dial-out, `gateway.sim.callee`, whose REST API was told to hang up).

    Never raises for anything the gateway does: refusals, protocol errors and closes end up in
    the report's `outcome`, `errors` and `timeline`.
    """
    options = options or SimOptions()
    dialect = dialect or TwilioDialect()
    clock = _Clock(asyncio.get_running_loop(), options.speed)
    clock.origin = clock.loop.time()
    notes: list[TimelineEntry] = []
    request = dialect.webhook(base_url, options)
    report = CallReport(
        carrier=dialect.name,
        call_sid=options.call_sid,
        outcome=CallOutcome.WEBHOOK_FAILED,
        webhook_url=request.url,
    )

    def failed(outcome: CallOutcome, code: int, reason: str) -> CallReport:
        notes.append(TimelineEntry(clock.now_ms(), "error", f"{code}: {reason}"))
        error = SimError(clock.now_ms(), code, reason)
        return replace(report, outcome=outcome, errors=(error,), timeline=tuple(notes))

    try:
        async with httpx.AsyncClient(
            timeout=options.http_timeout_s, verify=options.ssl_context or True
        ) as client:
            if request.method == "GET":
                response = await client.get(
                    request.url, params=list(request.form), headers=list(request.headers)
                )
            elif request.body is not None:
                response = await client.post(
                    request.url, content=request.body, headers=list(request.headers)
                )
            else:
                response = await client.post(
                    request.url, data=dict(request.form), headers=list(request.headers)
                )
    except httpx.HTTPError as exc:
        return failed(CallOutcome.WEBHOOK_FAILED, 11200, f"webhook request failed: {exc!r}")
    status, body = response.status_code, response.text
    notes.append(TimelineEntry(clock.now_ms(), "webhook", f"POST -> HTTP {status}"))
    report = replace(report, webhook_status=status, twiml=body)
    if status != 200:
        return failed(CallOutcome.WEBHOOK_FAILED, 11200, f"webhook answered HTTP {status}")
    try:
        answer = dialect.parse_answer(body)
    except AnswerRefusedError as exc:
        return failed(CallOutcome.TWIML_REFUSED, exc.code, exc.reason)
    report = replace(report, verbs_before=answer.before, verbs_after=answer.after)
    if answer.stream_url is None:
        said = "; ".join(verb.describe() for verb in answer.before) or "nothing"
        notes.append(TimelineEntry(clock.now_ms(), "twiml", f"no stream: {said}"))
        return replace(report, outcome=CallOutcome.NO_STREAM, timeline=tuple(notes))
    report = replace(
        report, stream_url=answer.stream_url, custom_parameters=dict(answer.parameters)
    )
    first = await _stream(answer, script, options, dialect, clock, notes, report, hang_up)
    return await _carry_on(first, answer, script, options, dialect, clock, hang_up)


def _next_url(answer: StreamAnswer) -> str | None:
    """Where the carrier asks for the call's next document once the stream ended: Twilio's
    `<Connect action>`, else a `<Redirect>` right after the stream (TeXML, whose `<Connect>`
    runs the verbs after it once the stream stopped)."""
    if answer.action is not None:
        return answer.action
    if answer.after and answer.after[0].kind == "Redirect" and answer.after[0].text:
        return answer.after[0].text
    return None


MAX_STREAMS_PER_CALL = 20
"""How many streams one simulated call follows through `<Connect action>` answers."""


async def _carry_on(
    report: CallReport,
    answer: StreamAnswer,
    script: CallScript,
    options: SimOptions,
    dialect: CarrierDialect,
    clock: _Clock,
    hang_up: asyncio.Event | None,
) -> CallReport:
    """Twilio's rule: when a `<Connect>` ends without the caller hanging up (the stream closed
    or dropped) and it has an `action`, request it and follow the TwiML it answers: a new
    stream carries the call on with the rest of the caller's script (what the caller said in
    between is lost), anything else ends it. The report is the last stream's, with the earlier
    ones in `earlier_legs`."""
    action_request = getattr(dialect, "action_request", None)
    answer = replace(answer, action=_next_url(answer))
    origin = clock.origin  # the first stream's start: call time 0
    legs: list[CallReport] = []
    offsets: list[float] = [0.0]
    gaps: list[float] = []
    while (
        answer.action is not None
        and action_request is not None
        and report.outcome is CallOutcome.GATEWAY_CLOSED
        and not report.errors
        and len(legs) + 1 < MAX_STREAMS_PER_CALL
    ):
        closed_at = clock.loop.time()
        request = action_request(answer.action, options)
        try:
            async with httpx.AsyncClient(
                timeout=options.http_timeout_s, verify=options.ssl_context or True
            ) as client:
                response = await client.post(
                    request.url, data=dict(request.form), headers=list(request.headers)
                )
            if response.status_code != 200:
                break
            following = dialect.parse_answer(response.text)
        except (httpx.HTTPError, AnswerRefusedError):
            break
        if following.stream_url is None:
            break
        offset_ms = (clock.loop.time() - origin) * 1000 * options.speed
        if offset_ms >= script.duration_ms:
            break
        rest = script.after(offset_ms)
        notes = [TimelineEntry(0.0, "action", f"{abbreviate_url(request.url)} -> new stream")]
        next_report = replace(
            report,
            stream_url=following.stream_url,
            custom_parameters=dict(following.parameters),
            twiml=response.text,
        )
        new = await _stream(following, rest, options, dialect, clock, notes, next_report, hang_up)
        if new.outcome is CallOutcome.STREAM_REFUSED:
            legs.append(report)
            report = new
            break
        legs.append(report)
        started = (clock.origin - origin) * 1000 * options.speed
        offsets.append(started)
        gaps.append((clock.origin - closed_at) * 1000 * options.speed)
        report, answer = new, replace(following, action=_next_url(following))
    if not legs:
        return report
    return replace(
        report,
        earlier_legs=tuple(legs),
        leg_offsets_ms=tuple(offsets),
        reconnect_gaps_ms=tuple(gaps),
    )


async def _stream(
    answer: StreamAnswer,
    script: CallScript,
    options: SimOptions,
    dialect: CarrierDialect,
    clock: _Clock,
    notes: list[TimelineEntry],
    report: CallReport,
    hang_up: asyncio.Event | None = None,
) -> CallReport:
    assert answer.stream_url is not None
    url = answer.stream_url
    try:
        ws = await connect(
            url,
            additional_headers=dialect.upgrade_headers(url, options),
            user_agent_header=None,  # the dialect's headers carry the carrier's user agent
            compression=None,
            open_timeout=options.ws_open_timeout_s,
            close_timeout=options.ws_close_timeout_s,
            ping_interval=None,
            max_size=MAX_GATEWAY_MESSAGE_BYTES,
            ssl=_ssl_for(url, options),
        )
    except (InvalidHandshake, InvalidURI, OSError, TimeoutError) as exc:
        code, reason = 31920, f"stream handshake failed: {exc!r}"
        if isinstance(exc, ssl.SSLError):
            code = 31910
        elif isinstance(exc, InvalidStatus):
            reason = f"stream handshake answered HTTP {exc.response.status_code}, not 101"
        notes.append(TimelineEntry(clock.now_ms(), "error", f"{code}: {reason}"))
        return replace(
            report,
            outcome=CallOutcome.STREAM_REFUSED,
            errors=(SimError(clock.now_ms(), code, reason),),
            timeline=tuple(notes),
        )
    # From here on, call time 0 is the stream's start; earlier notes become negative.
    shift = clock.now_ms()
    clock.origin = clock.loop.time()
    notes = [TimelineEntry(n.t_ms - shift, n.kind, n.detail) for n in notes]
    notes.append(TimelineEntry(0.0, "stream.open", abbreviate_url(url)))
    session = StreamSession(dialect.new_stream(options), script, answer.parameters)
    link = _Link(ws, session, clock, options, hang_up=hang_up)
    guard_s = (
        script.duration_ms / 1000 / options.speed
        + options.ws_send_timeout_s
        + 2 * options.ws_close_timeout_s
        + 5.0
    )
    try:
        async with asyncio.timeout(guard_s), asyncio.TaskGroup() as group:
            group.create_task(link.reader())
            group.create_task(link.writer())
    except TimeoutError:
        session.records.errors.append(SimError(clock.now_ms(), SIM_FAILURE, "call overran"))
    finally:
        await ws.close()
    return _stream_report(report, session, script, answer, notes)


def _stream_report(
    report: CallReport,
    session: StreamSession,
    script: CallScript,
    answer: StreamAnswer,
    notes: list[TimelineEntry],
) -> CallReport:
    records = session.records
    said, heard = session.audio()
    end_ms = len(said) * 1000 / CALL_RATE_HZ
    if script.utterances:
        caller = [Segment(u.start_ms, u.end_ms, u.text) for u in script.utterances]
    else:
        caller = speech_segments(said, merge_gap_ms=500.0)
    caller = [u for u in caller if u.start_ms < end_ms]
    agent = speech_segments(heard)
    clears = session.clears
    timeline = notes + records.timeline
    if records.errors:
        outcome = CallOutcome.PROTOCOL_ERROR
    elif session.schedule.stopped:
        outcome = CallOutcome.COMPLETED
    else:
        outcome = CallOutcome.GATEWAY_CLOSED
        at_ms = records.close.at_ms if records.close else end_ms
        timeline += [TimelineEntry(at_ms, "twiml.after", v.describe()) for v in answer.after]
    return replace(
        report,
        outcome=outcome,
        stream_sid=session.stream.stream_sid,
        said=said,
        heard=heard,
        timeline=tuple(timeline),
        marks=tuple(records.marks),
        clears=tuple(clears),
        dtmf=tuple(records.dtmf),
        close=records.close,
        errors=tuple(records.errors),
        caller_utterances=tuple(caller),
        agent_segments=tuple(agent),
        answer_latency_ms=answer_latency_ms(caller, agent),
        barge_ins=tuple(barge_ins(caller, agent, clears, session.playing())),
        media_frames_sent=session.schedule.frames_sent,
        media_frames_received=records.media_frames_received,
        media_bytes_received=records.media_bytes_received,
        messages_received=tuple(records.messages_received),
    )

"""LiveLink with fake sessions: claiming, sending in order, replacing (close before open, the
backoff, resume or fresh with context), carrying unsent items to the next session exactly once
and in order, which closes are reported, the queue's drop-oldest-audio policy, and no task left
behind.

Every link runs inside its own TaskGroup under a generous safety bound (not a timing assertion);
waits are polls of the event loop, never sleeps of a chosen length.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest

from gateway.core.events import (
    BridgeEvent,
    LiveClosed,
    LiveOpened,
    ReconnectLive,
    SendAudio,
    SendText,
    SendToolResponse,
)
from gateway.live.closes import CloseInfo, close_info
from gateway.live.events import LiveEvent, OutputTranscript, SetupComplete
from gateway.live.protocol import ToolResult
from gateway.shell.live_client import LiveClosedError, LiveConnectError, LiveSession
from gateway.shell.live_link import CLOSE_LIVE, LiveLink

_REAL_SLEEP = asyncio.sleep
SAFETY_S = 10.0
Sent = tuple[Any, ...]


class FakeSession:
    """What LiveLink uses of a LiveSession. `fail_after`: sends accepted before every further
    send fails (`fail_with`: "closed" raises LiveClosedError, "timeout" TimeoutError)."""

    def __init__(
        self,
        name: str,
        journal: list[Sent],
        *,
        fail_after: int | None = None,
        fail_with: str = "closed",
        close_wakes_reader: bool = True,
    ) -> None:
        self.name = name
        self.setup = SetupComplete(session_id=name)
        self.frame_received_s = 0.0
        self.log_id = name
        self.journal = journal
        self.sent: list[Sent] = []
        self.tried: list[Sent] = []
        self.fail_after = fail_after
        self.fail_with = fail_with
        self.close_wakes_reader = close_wakes_reader
        self.closed: tuple[int, str] | None = None
        self._inbox: asyncio.Queue[list[LiveEvent] | CloseInfo] = asyncio.Queue()

    # The server's side.
    def push(self, events: list[LiveEvent], stamp: float = 0.0) -> None:
        self.frame_received_s = stamp
        self._inbox.put_nowait(events)

    def server_close(self, code: int, reason: str = "") -> None:
        self._inbox.put_nowait(close_info(code, reason, go_away_seen=False))

    # The client API.
    async def recv(self) -> list[LiveEvent]:
        item = await self._inbox.get()
        if isinstance(item, CloseInfo):
            self._inbox.put_nowait(item)  # closed for good
            raise LiveClosedError(item)
        return item

    async def _send(self, item: Sent) -> None:
        self.tried.append(item)
        if self.closed is not None:
            raise LiveClosedError(close_info(*self.closed, go_away_seen=False))
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            if self.fail_with == "timeout":
                raise TimeoutError
            raise LiveClosedError(close_info(None, "", go_away_seen=False))
        self.sent.append(item)

    async def send_audio(self, pcm: bytes, rate_hz: int = 16_000) -> None:
        await self._send(("audio", pcm, rate_hz))

    async def send_text(self, text: str) -> None:
        await self._send(("text", text))

    async def send_tool_response(self, results: Any) -> None:
        await self._send(("tool", tuple(results)))

    async def close(self, code: int = 1000, reason: str = "") -> CloseInfo:
        self.journal.append(("close", self.name, code, reason))
        if self.closed is None:
            self.closed = (code, reason)
            if self.close_wakes_reader:
                self.server_close(code, reason)
        return close_info(code, reason, go_away_seen=False)


class FakeLog:
    def __init__(self) -> None:
        self.warnings: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.warnings.append((event, fields))


class Harness:
    """One link, its sessions (claimed first, then opened in order) and what it reported."""

    def __init__(
        self,
        sessions: list[FakeSession | Exception],
        *,
        journal: list[Sent] | None = None,
        reopen: bool = True,
        connect_timeout_s: float = 5.0,
        on_event: Callable[[Harness, BridgeEvent], None] | None = None,
    ) -> None:
        self.journal: list[Sent] = [] if journal is None else journal
        self.sessions = sessions
        self.events: list[tuple[BridgeEvent, float]] = []
        self.log = FakeLog()
        self._on_event = on_event
        self.link = LiveLink(
            claim=self._claim,
            open_session=self._open if reopen else None,
            handle=self._handle,
            connect_timeout_s=connect_timeout_s,
            close_timeout_s=1.0,
            log=self.log,
        )

    def session(self, name: str) -> FakeSession:
        return next(s for s in self.sessions if isinstance(s, FakeSession) and s.name == name)

    def _next(self) -> LiveSession:
        item = self.sessions[sum(1 for entry in self.journal if entry[0] in ("claim", "open")) - 1]
        if isinstance(item, Exception):
            raise item
        return cast(LiveSession, item)

    async def _claim(self) -> LiveSession:
        self.journal.append(("claim",))
        return self._next()

    async def _open(self, handle: str | None, context: str | None) -> LiveSession:
        self.journal.append(("open", handle, context))
        return self._next()

    def _handle(self, event: BridgeEvent, stamp: float) -> None:
        self.events.append((event, stamp))
        if self._on_event is not None:
            self._on_event(self, event)

    @property
    def reported(self) -> list[BridgeEvent]:
        return [event for event, _ in self.events]

    def enqueue(self, *items: object) -> None:
        for item in items:
            self.link.enqueue(item)

    async def run(self, steps: Callable[[], Awaitable[None]] | None = None) -> None:
        """Run the link to its end (CLOSE_LIVE); no task of it may be left afterwards."""
        before = asyncio.all_tasks()
        async with asyncio.timeout(SAFETY_S), asyncio.TaskGroup() as group:
            runner = group.create_task(self.link.run(group), name="live-link")
            if steps is not None:
                await steps()
        assert runner.done()
        await _REAL_SLEEP(0)
        assert asyncio.all_tasks() - before == set()
        assert self.link.readers == set()


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(5_000):
        if condition():
            return
        await _REAL_SLEEP(0.001)
    raise AssertionError(f"never happened: {what}")


def _audio(tag: str) -> SendAudio:
    return SendAudio(tag.encode())


def _sent(tag: str) -> Sent:
    return ("audio", tag.encode(), 16_000)


RESULT = ToolResult("c1", "lookup", {"output": "ok"})


# ------------------------------------------------------------------------- first session


async def test_claims_the_first_session_sends_in_order_and_closes() -> None:
    journal: list[Sent] = []
    harness = Harness([FakeSession("s1", journal)], journal=journal)
    harness.enqueue(
        _audio("a1"),
        SendText("hello"),
        SendToolResponse((RESULT,)),
        SendAudio(b"a2", 24_000),
        CLOSE_LIVE,
        _audio("after the close"),
    )
    await harness.run()
    s1 = harness.session("s1")
    assert s1.sent == [
        _sent("a1"),
        ("text", "hello"),
        ("tool", (RESULT,)),
        ("audio", b"a2", 24_000),
    ]
    assert journal == [("claim",), ("close", "s1", 1000, "")]
    # Our own close is not news for the bridge.
    assert harness.events == [(LiveOpened(session_id="s1", resumed=False), 0.0)]
    assert harness.link.session is None


async def test_the_current_sessions_events_are_reported_with_their_stamp() -> None:
    journal: list[Sent] = []
    harness = Harness([FakeSession("s1", journal)], journal=journal)

    async def steps() -> None:
        await _until(lambda: len(harness.events) == 1, "s1 opened")
        harness.session("s1").push([OutputTranscript("hi"), OutputTranscript("there")], 12.5)
        await _until(lambda: len(harness.events) == 3, "s1's events")
        harness.enqueue(CLOSE_LIVE)

    await harness.run(steps)
    assert harness.events == [
        (LiveOpened("s1", False), 0.0),
        (OutputTranscript("hi"), 12.5),
        (OutputTranscript("there"), 12.5),
    ]


async def test_a_close_of_the_current_session_is_reported() -> None:
    journal: list[Sent] = []
    harness = Harness([FakeSession("s1", journal)], journal=journal)

    async def steps() -> None:
        await _until(lambda: len(harness.events) == 1, "s1 opened")
        harness.session("s1").server_close(1011, "internal error")
        await _until(lambda: len(harness.events) == 2, "the close reported")
        harness.enqueue(CLOSE_LIVE)

    await harness.run(steps)
    assert harness.reported == [
        LiveOpened("s1", False),
        LiveClosed(close_info(1011, "internal error", go_away_seen=False)),
    ]


# ------------------------------------------------------------------------------ replacing


async def test_a_replacement_closes_the_old_session_waits_then_opens_the_new(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    journal: list[Sent] = []
    harness = Harness([FakeSession("s1", journal), FakeSession("s2", journal)], journal=journal)

    async def fake_sleep(seconds: float) -> None:
        journal.append(("sleep", seconds))
        await _REAL_SLEEP(0)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)  # what live_link awaits
    reconnect = ReconnectLive("close 1011", handle="h1", delay_ms=250.0, attempt=2)
    harness.enqueue(_audio("a1"), reconnect, _audio("a2"), CLOSE_LIVE)
    await harness.run()
    assert journal == [
        ("claim",),
        ("close", "s1", 1000, "handover"),  # a resume is refused while the old one is open
        ("sleep", 0.25),
        ("open", "h1", None),
        ("close", "s2", 1000, ""),
    ]
    assert harness.session("s1").sent == [_sent("a1")]
    assert harness.session("s2").sent == [_sent("a2")]
    # The replaced session's close is not reported: the bridge asked for it.
    assert harness.reported == [LiveOpened("s1", False), LiveOpened("s2", resumed=True)]


async def test_a_fresh_replacement_is_opened_with_the_context_and_no_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    journal: list[Sent] = []
    harness = Harness([FakeSession("s1", journal), FakeSession("s2", journal)], journal=journal)

    async def fake_sleep(seconds: float) -> None:
        journal.append(("sleep", seconds))
        await _REAL_SLEEP(0)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)  # what live_link awaits
    fresh = ReconnectLive("close 1011", handle=None, delay_ms=0.0, context="so far", attempt=2)
    harness.enqueue(fresh, CLOSE_LIVE)
    await harness.run()
    assert journal == [
        ("claim",),
        ("close", "s1", 1000, "handover"),
        ("open", None, "so far"),
        ("close", "s2", 1000, ""),
    ]
    assert harness.reported == [LiveOpened("s1", False), LiveOpened("s2", resumed=False)]


async def test_old_session_events_still_arrive_until_the_new_one_is_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    journal: list[Sent] = []
    old = FakeSession("s1", journal, close_wakes_reader=False)
    harness = Harness([old, FakeSession("s2", journal)], journal=journal)

    async def fake_sleep(seconds: float) -> None:
        # During the backoff (no session is current) the old socket still delivers a frame.
        old.push([OutputTranscript("still talking")], 3.0)
        for _ in range(10):
            await _REAL_SLEEP(0)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)  # what live_link awaits

    async def steps() -> None:
        await _until(lambda: len(harness.events) == 3, "s2 opened")
        # Once the new session is current, the old one's leftovers are stale.
        old.push([OutputTranscript("stale")], 4.0)
        await _until(lambda: old._inbox.empty(), "the stale frame read")
        harness.enqueue(CLOSE_LIVE)

    harness.enqueue(ReconnectLive("go_away", handle="h1", delay_ms=100.0))
    await harness.run(steps)
    assert harness.events == [
        (LiveOpened("s1", False), 0.0),
        (OutputTranscript("still talking"), 3.0),
        (LiveOpened("s2", True), 0.0),
    ]


async def test_items_a_dead_session_could_not_take_go_first_to_the_next_exactly_once() -> None:
    journal: list[Sent] = []
    harness = Harness(
        [FakeSession("s1", journal, fail_after=1), FakeSession("s2", journal)], journal=journal
    )
    harness.enqueue(
        _audio("a1"),
        _audio("a2"),  # s1's socket is gone from here on
        SendText("key 5"),
        _audio("a3"),
        ReconnectLive("close 1006", handle="h1"),
        _audio("a4"),
        CLOSE_LIVE,
    )
    await harness.run()
    s1, s2 = harness.session("s1"), harness.session("s2")
    assert s1.sent == [_sent("a1")]
    assert s1.tried == [_sent("a1"), _sent("a2")]  # once it failed, nothing more was tried
    assert s2.sent == [_sent("a2"), ("text", "key 5"), _sent("a3"), _sent("a4")]
    assert s2.tried == s2.sent


async def test_carried_items_keep_their_order_when_the_next_session_dies_too() -> None:
    """FAILS (bug in gateway/shell/live_link.py, `run`). s2 dies on the first carried item:
    the link puts it back at the END of its carry-over (`unsent.append`), so s3 gets
    [text, a3, a2, a4] instead of [a2, text, a3, a4]."""
    journal: list[Sent] = []
    harness = Harness(
        [
            FakeSession("s1", journal, fail_after=1),
            FakeSession("s2", journal, fail_after=0),
            FakeSession("s3", journal),
        ],
        journal=journal,
    )
    harness.enqueue(
        _audio("a1"),
        _audio("a2"),
        SendText("key 5"),
        _audio("a3"),
        ReconnectLive("close 1006", handle="h1"),
        ReconnectLive("close 1006", handle="h1", attempt=2),
        _audio("a4"),
        CLOSE_LIVE,
    )
    await harness.run()
    assert harness.session("s1").sent == [_sent("a1")]
    assert harness.session("s2").sent == []
    assert harness.session("s3").sent == [
        _sent("a2"),
        ("text", "key 5"),
        _sent("a3"),
        _sent("a4"),
    ]


async def test_a_failed_open_is_reported_and_the_items_wait_for_the_next_session() -> None:
    journal: list[Sent] = []
    refused = close_info(1008, "session handle expired", go_away_seen=False)
    harness = Harness(
        [
            FakeSession("s1", journal),
            LiveConnectError("setup refused", refused),
            FakeSession("s3", journal),
        ],
        journal=journal,
    )
    harness.enqueue(
        _audio("a1"),
        ReconnectLive("go_away", handle="h1"),
        _audio("a2"),
        SendText("key 9"),
        ReconnectLive("go_away", handle=None, context="ctx", attempt=2),
        _audio("a3"),
        CLOSE_LIVE,
    )
    await harness.run()
    assert harness.reported == [
        LiveOpened("s1", False),
        LiveClosed(refused),
        LiveOpened("s3", False),
    ]
    assert journal == [
        ("claim",),
        ("close", "s1", 1000, "handover"),
        ("open", "h1", None),
        ("open", None, "ctx"),
        ("close", "s3", 1000, ""),
    ]
    assert harness.session("s1").sent == [_sent("a1")]
    assert harness.session("s3").sent == [_sent("a2"), ("text", "key 9"), _sent("a3")]


async def test_a_failed_claim_is_reported_as_a_close() -> None:
    journal: list[Sent] = []
    unavailable = close_info(1011, "unavailable", go_away_seen=False)
    harness = Harness(
        [LiveConnectError("no session", unavailable), FakeSession("s2", journal)], journal=journal
    )
    harness.enqueue(_audio("a1"), ReconnectLive("connect failed", attempt=2), CLOSE_LIVE)
    await harness.run()
    assert harness.reported == [LiveClosed(unavailable), LiveOpened("s2", False)]
    assert harness.session("s2").sent == [_sent("a1")]


async def test_an_open_that_hangs_times_out_as_a_resumable_close() -> None:
    journal: list[Sent] = []
    harness = Harness([FakeSession("s1", journal)], journal=journal, connect_timeout_s=0.05)
    never = asyncio.Event()

    async def hanging_open(handle: str | None, context: str | None) -> LiveSession:
        journal.append(("open", handle, context))
        await never.wait()
        raise AssertionError("unreachable")

    harness.link._open_session = hanging_open
    harness.enqueue(ReconnectLive("go_away", handle="h1"), CLOSE_LIVE)
    await harness.run()
    assert harness.reported == [
        LiveOpened("s1", False),
        LiveClosed(close_info(None, "connect timeout", go_away_seen=False)),
    ]
    closed = harness.reported[1]
    assert isinstance(closed, LiveClosed)
    assert (closed.close.code, closed.close.resumable) == (1006, True)


async def test_without_an_opener_a_replacement_is_reported_as_closed() -> None:
    journal: list[Sent] = []
    harness = Harness([FakeSession("s1", journal)], journal=journal, reopen=False)
    harness.enqueue(ReconnectLive("go_away", handle="h1"), CLOSE_LIVE)
    await harness.run()
    assert harness.reported == [
        LiveOpened("s1", False),
        LiveClosed(close_info(1011, "reconnecting is not configured", go_away_seen=False)),
    ]
    assert journal == [("claim",), ("close", "s1", 1000, "handover")]


async def test_a_send_timeout_closes_the_session_with_1011_and_the_item_is_kept() -> None:
    journal: list[Sent] = []

    def like_the_bridge(harness: Harness, event: BridgeEvent) -> None:
        if isinstance(event, LiveClosed):  # a resumable close: replace the session
            harness.enqueue(ReconnectLive("close 1011", handle="h1"), _audio("a3"), CLOSE_LIVE)

    harness = Harness(
        [
            FakeSession("s1", journal, fail_after=1, fail_with="timeout"),
            FakeSession("s2", journal),
        ],
        journal=journal,
        on_event=like_the_bridge,
    )
    harness.enqueue(_audio("a1"), _audio("a2"))
    await harness.run()
    assert journal[:2] == [("claim",), ("close", "s1", 1011, "send timeout")]
    assert harness.reported == [
        LiveOpened("s1", False),
        LiveClosed(close_info(1011, "send timeout", go_away_seen=False)),
        LiveOpened("s2", True),
    ]
    assert harness.log.warnings == [("live.send_timeout", {})]
    assert harness.session("s1").sent == [_sent("a1")]
    assert harness.session("s2").sent == [_sent("a2"), _sent("a3")]


# ------------------------------------------------------------------------------- the queue


def _frame(tag: int) -> SendAudio:
    return SendAudio(bytes([tag]) * 640)  # 20 ms at 16 kHz


def test_past_its_audio_limit_the_queue_drops_only_the_oldest_caller_audio_and_counts_it() -> None:
    harness = Harness([])
    link = LiveLink(
        claim=harness._claim,
        open_session=None,
        handle=harness._handle,
        connect_timeout_s=1.0,
        close_timeout_s=1.0,
        log=harness.log,
        audio_limit_ms=100.0,  # five 20 ms frames
    )
    text, tool = SendText("pressed 1"), SendToolResponse((RESULT,))
    reconnect = ReconnectLive("close 1011", handle="h1")
    link.enqueue(text, 1.0)
    link.enqueue(_frame(0), 2.0)
    link.enqueue(tool, 3.0)
    link.enqueue(reconnect, 4.0)
    for tag in range(1, 8):
        link.enqueue(_frame(tag), 4.0 + tag)
    link.enqueue(CLOSE_LIVE, 20.0)
    # 8 frames (160 ms) went in; the 3 oldest went out; nothing else was touched.
    assert (link.dropped, link.dropped_ms) == (3, 60.0)
    assert link.queue.audio_ms == 100.0
    assert link.queue.qsize() == 9
    items = [asyncio.run(link.queue.get()) for _ in range(9)]
    assert items == [
        (text, 1.0),
        (tool, 3.0),
        (reconnect, 4.0),
        *[(_frame(tag), 4.0 + tag) for tag in range(3, 8)],
        (CLOSE_LIVE, 20.0),
    ]
    # One warning for the first overflow, not one per dropped item.
    assert harness.log.warnings == [
        ("live.queue_overflow", {"policy": "drop-oldest-audio", "limit_ms": 100})
    ]


def test_texts_and_tool_responses_are_never_dropped_however_many() -> None:
    harness = Harness([])
    link = LiveLink(
        claim=harness._claim,
        open_session=None,
        handle=harness._handle,
        connect_timeout_s=1.0,
        close_timeout_s=1.0,
        log=harness.log,
        audio_limit_ms=20.0,
    )
    for index in range(2_000):
        link.enqueue(SendText(f"t{index}"))
        link.enqueue(SendToolResponse((ToolResult(f"c{index}", "lookup", {"output": index}),)))
    assert (link.dropped, link.queue.qsize()) == (0, 4_000)
    assert harness.log.warnings == []


async def test_audio_kept_for_the_next_session_counts_against_the_limit_and_goes_first() -> None:
    # s1's socket is gone: what it could not take is kept, in order, within the audio limit.
    def like_the_bridge(harness: Harness, event: BridgeEvent) -> None:
        if isinstance(event, LiveClosed):
            for tag in (3, 4):
                harness.link.enqueue(_frame(tag))
            harness.link.enqueue(ReconnectLive("close 1006", handle="h1"))
            harness.link.enqueue(CLOSE_LIVE)

    s1 = FakeSession("s1", [], fail_after=0)
    harness = Harness([s1, FakeSession("s2", [])], on_event=like_the_bridge)
    harness.link.queue.audio_limit_ms = 60.0
    s1.journal = harness.journal
    harness.session("s2").journal = harness.journal
    harness.enqueue(_frame(1), _frame(2))

    async def steps() -> None:
        await _until(lambda: s1.tried != [], "s1 tried a send")
        s1.server_close(1006)

    await harness.run(steps)
    # 1 and 2 were kept, 3 and 4 queued behind them: 80 ms > 60 ms, so the oldest (1) went.
    assert harness.link.dropped == 1
    assert harness.session("s2").sent == [("audio", bytes([t]) * 640, 16_000) for t in (2, 3, 4)]


async def test_close_live_ends_run_even_without_a_session() -> None:
    unavailable = close_info(1011, "unavailable", go_away_seen=False)
    harness = Harness([LiveConnectError("no session", unavailable)])
    harness.enqueue(_audio("a1"), CLOSE_LIVE)
    await harness.run()
    assert harness.reported == [LiveClosed(unavailable)]
    assert harness.journal == [("claim",)]

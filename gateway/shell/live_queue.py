"""What one call has to send to Live, in order, bounded by the caller audio it holds.

Overflow policy `drop-oldest-audio`: at most `audio_limit_ms` of caller audio is queued, counting
the items kept for the next session. Past it the oldest caller audio goes first; each dropped
item and its audio are counted (`dropped`, `dropped_ms`) and the first overflow of a call is
logged once. Nothing else is ever dropped: a text (a keypress, a tool result told as text), a tool
response, a reconnect or the close is small, and losing one would leave the model waiting or the
link stuck.

The limit covers what the bridge may release at once (a reconnect's held audio, replayed in
chunks of up to a second) plus a margin for the live audio that keeps arriving while that goes
out, so nothing is dropped unless the Live socket stops taking what it is sent.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Final

from gateway.core.events import SendAudio
from gateway.shell.mailbox import Wakeup

__all__ = ["LIVE_QUEUE_MARGIN_MS", "LiveQueue"]

LIVE_QUEUE_MARGIN_MS: Final = 10_000.0
"""Caller audio the queue holds beyond what the bridge may release at once (its held audio)."""

Entry = tuple[object, float]


def _audio_ms(item: object) -> float:
    if isinstance(item, SendAudio) and item.rate_hz > 0:
        return len(item.pcm) * 500 / item.rate_hz  # PCM16: 2 bytes a sample
    return 0.0


class LiveQueue:
    """The link's pending commands (`get`), and those kept for the next session (`keep`)."""

    def __init__(self, audio_limit_ms: float, log: Any) -> None:
        self.audio_limit_ms = audio_limit_ms
        self._log = log
        self._items: deque[Entry] = deque()
        self._kept: deque[Entry] = deque()
        """Taken from the queue but not sent (the session was gone): sent first to the next."""
        self._ready = Wakeup()  # no running-loop look-up per wait (gateway.shell.mailbox)
        self.audio_ms = 0.0
        """Caller audio queued or kept now."""
        self.dropped = 0
        """Caller audio items dropped by the overflow policy."""
        self.dropped_ms = 0.0

    def qsize(self) -> int:
        """Items waiting, kept ones included."""
        return len(self._items) + len(self._kept)

    @property
    def has_kept(self) -> bool:
        return bool(self._kept)

    def put(self, item: object, stamp: float = 0.0) -> None:
        """Queue `item`; past the audio limit, drop the oldest caller audio (nothing else)."""
        self._items.append((item, stamp))
        self.audio_ms += _audio_ms(item)
        self._ready.set()
        while self.audio_ms > self.audio_limit_ms and self._drop_oldest_audio():
            pass

    async def get(self) -> Entry:
        """The next queued item, waiting for one."""
        while not self._items:
            await self._ready.wait()
        entry = self._items.popleft()
        self.audio_ms -= _audio_ms(entry[0])
        return entry

    def keep(self, item: object, stamp: float, *, first: bool) -> None:
        """Keep an item the session could not take: `first` puts it back at the front of the
        kept ones (it had been taken from there), else behind them."""
        if first:
            self._kept.appendleft((item, stamp))
        else:
            self._kept.append((item, stamp))
        self.audio_ms += _audio_ms(item)

    def take_kept(self) -> Entry:
        """The oldest kept item (call only when `has_kept`)."""
        entry = self._kept.popleft()
        self.audio_ms -= _audio_ms(entry[0])
        return entry

    def _drop_oldest_audio(self) -> bool:
        for entries in (self._kept, self._items):  # kept items are the older ones
            for index, (item, _) in enumerate(entries):
                ms = _audio_ms(item)
                if ms:
                    del entries[index]
                    self.audio_ms -= ms
                    if self.dropped == 0:
                        self._log.warning(
                            "live.queue_overflow",
                            policy="drop-oldest-audio",
                            limit_ms=round(self.audio_limit_ms),
                        )
                    self.dropped += 1
                    self.dropped_ms += ms
                    return True
        return False

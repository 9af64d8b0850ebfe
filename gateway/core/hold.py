"""Hold audio while the caller waits for a tool: one call's hold player.

When a tool the model waits for (not a `NON_BLOCKING` one, not keypad entry) runs longer than
`after_ms`, and the agent's audio has played out, the caller hears the hold sound (the bundled
chime or the profile's own file, at the model's rate: `gateway.audio.hold_sound`) in a loop
until it is stopped: at once (a `ClearPlayback` drops what the carrier still holds of it) when
the model speaks again, when the caller barges in, when the last such tool finished with the
model silent, or when the call wraps up.

Its frames are the call's carrier frames, made once per call from the hold PCM by a downlink
path of their own, and go out as `PlayAudio(hold=True)`: no marks (the playback ledger and the
transcript's "heard" never count them), kept `LEAD_MS` ahead of the carrier's playout by a
timer every `TICK_MS` (`HOLD_TIMER`), never in the recording's agent channel as speech. The
transcript shows each hold as a `hold` line.

Pure and clock-free like the bridge that owns it.
"""

from __future__ import annotations

from typing import Final

from gateway.audio.paths import CarrierFormat, DownlinkPath
from gateway.core.events import CancelTimer, ClearPlayback, Command, PlayAudio, StartTimer

__all__ = ["HOLD_TIMER", "LEAD_MS", "TICK_MS", "HoldMusic"]

HOLD_TIMER: Final = "hold"
TICK_MS: Final = 200.0
LEAD_MS: Final = 400.0
"""Hold audio queued at the carrier ahead of its playout (what a stop clears)."""


class HoldMusic:
    def __init__(self, after_ms: float | None, pcm: bytes) -> None:
        self.after_ms = after_ms if pcm else None
        """None: no hold audio for this call."""
        self._pcm = pcm
        self.waiting = False
        """A blocking tool started: the hold timer runs towards `after_ms`."""
        self.playing = False
        self.started_ms = 0.0
        self._frames: list[bytes] = []
        self._frame_ms = 20.0
        self._next = 0
        self._end_ms = 0.0  # when the carrier will have played the hold audio sent so far
        self.holds = 0
        self.held_ms = 0.0

    def tool_started(self, now_ms: float, out: list[Command]) -> None:
        """A blocking tool started: the hold follows `after_ms` later if it still runs."""
        if self.after_ms is None or self.waiting or self.playing:
            return
        self.waiting = True
        out.append(StartTimer(HOLD_TIMER, now_ms + self.after_ms))

    def fired(
        self, now_ms: float, fmt: CarrierFormat, quiet_at_ms: float | None, out: list[Command]
    ) -> bool:
        """The hold timer: keep the hold fed, or start it. `quiet_at_ms`: when the agent's audio
        will have played (None: no blocking tool runs any more). True: the hold started."""
        if self.playing:
            self._feed(now_ms, out)
            return False
        if not self.waiting:
            return False
        if quiet_at_ms is None:
            self.waiting = False
            return False
        if quiet_at_ms > now_ms:  # the agent is still heard: hold once it has finished
            out.append(StartTimer(HOLD_TIMER, quiet_at_ms))
            return False
        self.waiting = False
        self.playing = True
        self.holds += 1
        self.started_ms = self._end_ms = now_ms
        if not self._frames:
            self._frames = self._carrier_frames(fmt)
            self._frame_ms = float(fmt.frame_ms)
        self._next = 0
        self._feed(now_ms, out)
        return True

    def stop(self, now_ms: float, out: list[Command], *, clear: bool = True) -> float | None:
        """Stop waiting or playing; the hold's length as heard when it played (else None).
        `clear`: drop what the carrier still holds of it (False: a barge-in's clear did)."""
        if self.waiting:
            self.waiting = False
            out.append(CancelTimer(HOLD_TIMER))
            return None
        if not self.playing:
            return None
        self.playing = False
        if clear:
            out.append(ClearPlayback())
        out.append(CancelTimer(HOLD_TIMER))
        heard_ms = max(0.0, min(now_ms, self._end_ms) - self.started_ms)
        self.held_ms += heard_ms
        return heard_ms

    def forget(self) -> None:
        """The timer fired where the call plays no hold (wrapping up, ending)."""
        self.waiting = self.playing = False

    # ---------------------------------------------------------------------------- inside

    def _feed(self, now_ms: float, out: list[Command]) -> None:
        frames = self._frames
        end_ms = max(self._end_ms, now_ms)
        while end_ms < now_ms + LEAD_MS:
            out.append(PlayAudio(frames[self._next], hold=True))
            self._next = (self._next + 1) % len(frames)
            end_ms += self._frame_ms
        self._end_ms = end_ms
        out.append(StartTimer(HOLD_TIMER, now_ms + TICK_MS))

    def _carrier_frames(self, fmt: CarrierFormat) -> list[bytes]:
        path = DownlinkPath(fmt)
        return path.process(self._pcm) + path.flush()

"""`CallBridge`: one call's decisions, pure and synchronous.

The shell feeds every carrier event, every Live event and its own facts to
`handle(event, now_ms)` and executes the returned commands in order. The bridge never awaits and
reads no clock; timers are `StartTimer` / `CancelTimer` commands answered by `TimerFired`.

What the call does is one table (`gateway.core.states.TABLE`): for every state, every event type
and every timer name, the handler and the states it may lead to. `handle` looks the pair up
(an illegal one raises `IllegalTransition` and changes nothing), runs the handler on the call's
parts (`gateway.core.call.Call`: speech, session keeper, stall watch, tool desk, DTMF gate,
held input, figures), and moves the call to the next state the table gives, or to the one the
handler names where the outcome decides. Handlers never set the state. The handlers are grouped
by concern: `on_carrier` (the carrier side and the call's timers), `on_session` (Live sessions,
fallback, hand-off), `on_model` (what the model says and asks), `on_conduct` (silence, keypad
entry, hold audio). After `EndCall` the shell drops the call's timers.

Hot paths (a carrier frame, a model chunk) are one dict lookup and a handler each, with no
`Note` and no per-frame allocation beyond the commands themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final

from gateway.core import on_answer, on_carrier, on_conduct, on_model, on_session
from gateway.core.call import Call
from gateway.core.events import BridgeEvent, Command, StartTimer, TimerFired
from gateway.core.options import BridgeOptions
from gateway.core.playback import PlaybackLedger
from gateway.core.states import (
    IGNORE,
    START_TIMER,
    TABLE,
    CallState,
    IllegalTransition,
    Key,
    Step,
)
from gateway.core.summary import CallStats, summarize
from gateway.core.transcript import TranscriptLine
from gateway.core.usage import CallUsage

__all__ = ["HANDLERS", "BridgeOptions", "CallBridge", "CallState", "IllegalTransition"]

Handler = Callable[[Call, Any, float], "list[Command] | Step"]


def ignore(call: Call, event: BridgeEvent, now_ms: float) -> list[Command]:
    """A legal pair that needs nothing: no commands, nothing changes."""
    return []


def _handlers(*modules: ModuleType) -> dict[str, Handler]:
    found: dict[str, Handler] = {IGNORE: ignore}
    for module in modules:
        for name, value in vars(module).items():
            if name.startswith("on_") and callable(value):
                if name[3:] in found:
                    raise ValueError(f"two handlers named {name}")
                found[name[3:]] = value
    return found


HANDLERS: Final = _handlers(on_carrier, on_session, on_model, on_conduct, on_answer)
"""Every handler by the name the table gives it."""


@dataclass(frozen=True, slots=True)
class _Bound:
    """A `Move` with its handler resolved."""

    handler: Handler
    to: tuple[CallState, ...]
    heard: bool


# Resolved once at import: a handler name in the table without a function fails here.
_DISPATCH: Final[dict[CallState, dict[Key, _Bound]]] = {
    state: {key: _Bound(HANDLERS[move.handler], move.to, move.heard) for key, move in row.items()}
    for state, row in TABLE.items()
}


class CallBridge:
    """One call between a carrier stream and a Live session (see the module doc)."""

    def __init__(self, options: BridgeOptions = BridgeOptions()) -> None:  # noqa: B008 (frozen)
        self.call = Call(options)
        """The call's parts (read them; only handlers change them)."""
        self._state = CallState.WAITING_FOR_START
        self._row = _DISPATCH[self._state]

    # ------------------------------------------------------------------------------ API

    def configure(self, options: BridgeOptions) -> None:
        """Use `options` for this call: the agent profile is known once the stream's `start`
        was authorized, before it is handled. Only before `CallStarted` (ValueError after)."""
        if self._state is not CallState.WAITING_FOR_START:
            raise ValueError(f"a call is configured before it starts, not in {self._state}")
        self.call.configure(options)

    def begin(self, now_ms: float) -> list[Command]:
        """The carrier stream opened: the `start` must come within `start_timeout_ms`."""
        return [StartTimer(START_TIMER, now_ms + self.call.options.start_timeout_ms)]

    def handle(self, event: BridgeEvent, now_ms: float) -> list[Command]:
        """Feed one event; returns the commands to execute, in order."""
        kind = type(event)
        row = self._row
        move = row.get(event.name) if kind is TimerFired else None  # type: ignore[union-attr]
        if move is None:
            move = row.get(kind)
            if move is None:
                raise IllegalTransition(self._state, kind)
        call = self.call
        # The stall watch: only while a caller's speech awaits an answer, or the session has
        # not answered yet (two attribute reads otherwise).
        if move.heard and (call.stall.since_ms is not None or not call.stall.answered):
            call.stall.heard(kind)
        done = move.handler(call, event, now_ms)
        if type(done) is list:
            state = move.to[0]
        else:
            assert isinstance(done, Step)
            state, done = done.state, done.commands
            if state not in move.to:  # a handler that disagrees with the table is a bug
                raise RuntimeError(f"{kind.__name__} led {self._state} to {state}, not {move.to}")
        if state is not self._state:
            self._state = state
            self._row = _DISPATCH[state]
            if state is CallState.ENDED:
                call.dtmf.drop_held()  # keys still waiting are not sent: counted as dropped
        return done

    @property
    def state(self) -> CallState:
        return self._state

    @property
    def options(self) -> BridgeOptions:
        return self.call.options

    @property
    def ledger(self) -> PlaybackLedger:
        return self.call.ledger

    @property
    def stats(self) -> CallStats:
        return self.call.stats

    @property
    def usage(self) -> CallUsage:
        """Live token usage, summed over the call's sessions."""
        return self.call.usage

    @property
    def call_id(self) -> str | None:
        return self.call.call_id

    @property
    def stream_id(self) -> str | None:
        return self.call.stream_id

    @property
    def resume_handle(self) -> str | None:
        """The latest resumable Live session handle, if any."""
        return self.call.keeper.handle

    def transcript(self) -> list[TranscriptLine]:
        """Every line so far, caller and agent, each with what of it was heard."""
        return self.call.transcript.lines()

    def heard_transcript(self) -> list[tuple[str, str]]:
        """(role, text) of what the caller actually heard (agent text of played marks only)."""
        return self.call.transcript.heard()

    def summary(self) -> dict[str, Any]:
        call = self.call
        uplink = call.uplink
        caller_ms = 0.0 if uplink is None else 1000 * uplink.input_samples / uplink.carrier.rate_hz
        log = call.keeper.log
        stats = call.stats
        stats.handovers = call.keeper.summary()
        stats.handovers_total = log.total
        stats.handovers_omitted = log.omitted
        stats.handover_counts = log.counts()
        stats.tools = list(call.tools.records)
        stats.holds, stats.hold_ms = call.hold.holds, call.hold.held_ms
        return summarize(
            stats,
            call.ledger,
            state=self._state.value,
            caller_audio_ms=caller_ms,
            usage=call.usage.summary(),
        )

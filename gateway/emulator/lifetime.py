"""One connection's lifetime: `goAway`, the deadline close, and the scenario's timed actions."""

from __future__ import annotations

from gateway.emulator.config import EmulatorConfig
from gateway.emulator.outputs import Close, Output, Send, duration
from gateway.emulator.scenario import TimedAction

__all__ = ["DEADLINE_REASON", "DROP_CODE", "Lifetime"]

DROP_CODE = 1006
"""A `Close` with this code resets the TCP connection instead (no close frame is sent)."""

DEADLINE_REASON = "Deadline expired before operation could complete."


class Lifetime:
    """`goAway {timeLeft: lead}` at lifetime - lead, close 1011 at the lifetime (as production),
    and the scripted go_away/close actions, all relative to the connection's start."""

    def __init__(
        self,
        config: EmulatorConfig,
        actions: tuple[TimedAction, ...],
        connection: int,
        started_s: float,
    ) -> None:
        self._lead_s = min(config.go_away_lead_s, config.connection_lifetime_s)
        self._go_away_at = started_s + config.connection_lifetime_s - self._lead_s
        self._deadline_at = started_s + config.connection_lifetime_s
        self._go_away_sent = False
        self.silenced = False
        """A `silence` action came: the connection sends nothing more (it still reads)."""
        self._actions = [
            (started_s + action.at_s, action) for action in actions if action.applies_to(connection)
        ]

    def due(self, now_s: float) -> list[Output]:
        """What is due by `now_s`; a `Close`, if any, is last."""
        if now_s >= self._deadline_at:
            return [Close(1011, DEADLINE_REASON)]
        out: list[Output] = []
        if not self._go_away_sent and now_s >= self._go_away_at:
            self._go_away_sent = True
            out.append(Send({"goAway": {"timeLeft": duration(self._lead_s)}}))
        while self._actions and min(at for at, _ in self._actions) <= now_s:
            entry = min(self._actions, key=lambda item: item[0])
            self._actions.remove(entry)
            action = entry[1]
            if action.action == "close":
                out.append(Close(action.code, action.reason))
                return out
            if action.action == "drop":
                out.append(Close(DROP_CODE, "connection dropped"))
                return out
            if action.action == "silence":
                self.silenced = True
                continue
            out.append(Send({"goAway": {"timeLeft": duration(action.time_left_s)}}))
        return out

    def next_s(self) -> float:
        times = [self._deadline_at, *(at for at, _ in self._actions)]
        if not self._go_away_sent:
            times.append(self._go_away_at)
        return min(times)

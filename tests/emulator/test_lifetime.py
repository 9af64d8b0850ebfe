"""Connection lifetime: goAway, deadline, scripted actions."""

from __future__ import annotations

from gateway.emulator.config import EmulatorConfig
from gateway.emulator.lifetime import DEADLINE_REASON, Lifetime
from gateway.emulator.outputs import Close, Send
from gateway.emulator.scenario import TimedAction


def test_go_away_then_deadline_relative_to_the_start() -> None:
    lifetime = Lifetime(EmulatorConfig(connection_lifetime_s=60, go_away_lead_s=50), (), 1, 100.0)
    assert lifetime.next_s() == 110.0
    assert lifetime.due(109.9) == []
    assert lifetime.due(110.0) == [Send({"goAway": {"timeLeft": "50s"}})]
    assert lifetime.due(110.0) == []
    assert lifetime.next_s() == 160.0
    assert lifetime.due(160.0) == [Close(1011, DEADLINE_REASON)]


def test_a_lead_longer_than_the_lifetime_goes_away_at_once() -> None:
    lifetime = Lifetime(EmulatorConfig(connection_lifetime_s=5, go_away_lead_s=50), (), 1, 0.0)
    assert lifetime.due(0.0) == [Send({"goAway": {"timeLeft": "5s"}})]


def test_scripted_actions_in_time_order_for_their_connection() -> None:
    actions = (
        TimedAction(at_s=3.0, action="close", code=1011, reason="later"),
        TimedAction(at_s=1.0, action="go_away", time_left_s=0.25),
        TimedAction(at_s=2.0, action="close", connection=2),
    )
    first = Lifetime(EmulatorConfig(), actions, 1, 0.0)
    assert first.next_s() == 1.0
    assert first.due(5.0) == [
        Send({"goAway": {"timeLeft": "0.25s"}}),
        Close(1011, "later"),
    ]
    second = Lifetime(EmulatorConfig(), actions, 2, 0.0)
    assert second.due(2.5) == [Close(1011, "Internal error encountered.")]

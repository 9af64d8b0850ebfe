"""One post-call document per call in cluster mode (gateway.shell.call_legs): the whole call's
start, transcript and legs; how long a leg's document waits; the call-wide delivery id."""

from __future__ import annotations

from gateway.core.carry_on import CallSnapshot
from gateway.shell.call_legs import CARRY_ON_GRACE_S, CallLeg, call_delivery_id, whole_call

DOCUMENT = {
    "delivery_id": "x",
    "started_at": "2027-01-15T08:00:30.000+00:00",
    "transcript": [{"role": "caller", "at_ms": 400.0, "text": "still there?"}],
}


def test_a_carried_on_call_is_covered_from_its_first_leg() -> None:
    carried = CallSnapshot(
        transcript=(("caller", "Hi"), ("agent", "Hello")),
        legs=2,
        started_at_s=1_800_000_000.25,
    )
    whole = whole_call(DOCUMENT, CallLeg(carried, "carrier stop"))
    assert whole == {
        "delivery_id": "x",
        "started_at": "2027-01-15T08:00:00.250+00:00",
        "legs": 3,
        "transcript": [
            {"role": "caller", "text": "Hi", "earlier_leg": True},
            {"role": "agent", "text": "Hello", "earlier_leg": True},
            {"role": "caller", "at_ms": 400.0, "text": "still there?"},
        ],
    }
    assert whole_call(DOCUMENT, CallLeg(None, "carrier stop")) == {**DOCUMENT, "legs": 1}
    unknown_start = whole_call(DOCUMENT, CallLeg(CallSnapshot(), "hang_up"))
    assert unknown_start["started_at"] == DOCUMENT["started_at"]
    assert unknown_start["legs"] == 2


def test_only_a_leg_that_ended_the_call_sends_at_once() -> None:
    for reason in ("handover", "carrier closed", "carrier stalled", "draining", None):
        assert CallLeg(None, reason).delay_s == CARRY_ON_GRACE_S
    for reason in ("carrier stop", "handed off (hang_up)", "caller hung up"):
        assert CallLeg(None, reason).delay_s == 0.0


def test_the_delivery_id_is_the_calls_on_every_replica() -> None:
    assert call_delivery_id("twilio", "CA1") == call_delivery_id("twilio", "CA1")
    assert call_delivery_id("twilio", "CA1") != call_delivery_id("twilio", "CA2")
    assert call_delivery_id("twilio", "CA1") != call_delivery_id("plivo", "CA1")

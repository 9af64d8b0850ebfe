"""Cluster mode's pure decisions: a call's snapshot, on-purpose ends, the stream-ended answer,
turn boundaries, and the cluster slot as an admission limit."""

from __future__ import annotations

from gateway.core.admission import (
    CLUSTER_AT_CAPACITY,
    CLUSTER_UNAVAILABLE,
    Admit,
    ClusterSlot,
    Load,
    MaxCalls,
    NotDraining,
    Refuse,
    decide,
)
from gateway.core.bridge import CallBridge
from gateway.core.carry_on import (
    ENDED,
    HANDED_OVER,
    LIVE,
    CallSnapshot,
    Finish,
    Reconnect,
    after_stream,
    ended_on_purpose,
    snapshot,
    turn_boundary,
)

SNAPSHOT = CallSnapshot(
    profile="sales",
    handle="h-42",
    transcript=(("caller", "Hi, where is my order?"), ("agent", 'It ships "today".')),
    pending_tools=("lookup_order",),
    recording_ms=12_340.0,
    status=LIVE,
    legs=2,
)


def test_a_snapshot_round_trips_through_its_hash_fields() -> None:
    fields = SNAPSHOT.encode()
    assert fields["handle"] == "h-42"
    assert fields["recording_ms"] == "12340"
    assert CallSnapshot.decode(fields) == SNAPSHOT
    assert CallSnapshot.decode({**fields, "handle": ""}) == CallSnapshot(
        **{**SNAPSHOT.__dict__, "handle": None}
    )


def test_a_malformed_or_empty_hash_is_no_snapshot() -> None:
    assert CallSnapshot.decode({}) is None
    assert CallSnapshot.decode({"profile": "x"}) is None  # no status
    assert CallSnapshot.decode({**SNAPSHOT.encode(), "transcript": "[[1]"}) is None
    assert CallSnapshot.decode({**SNAPSHOT.encode(), "legs": "two"}) is None


def test_which_ends_are_on_purpose() -> None:
    for reason in ("carrier closed", "carrier stalled", "handover", "draining", None, ""):
        assert not ended_on_purpose(reason), reason
    for reason in ("stop", "handed off (hang up)", "live closed", "call control failed"):
        assert ended_on_purpose(reason), reason


def test_the_stream_ended_answer() -> None:
    assert after_stream(None) == Finish("unknown call")
    ended = CallSnapshot(status=ENDED, end_reason="handed off (hang up)")
    assert after_stream(ended) == Finish("handed off (hang up)")
    assert after_stream(SNAPSHOT) == Reconnect("sales", SNAPSHOT)
    handed = CallSnapshot(profile="", status=HANDED_OVER)
    assert after_stream(handed) == Reconnect("", handed)


def test_a_new_bridge_snapshots_its_earlier_legs_and_is_at_no_boundary() -> None:
    bridge = CallBridge()
    taken = snapshot(bridge, profile="sales", before=SNAPSHOT, audio_ms=1_000.0)
    assert taken == CallSnapshot(
        profile="sales",
        handle="h-42",  # this leg has no handle yet: the earlier one still resumes
        transcript=SNAPSHOT.transcript,
        pending_tools=(),
        recording_ms=13_340.0,
        status=LIVE,
        legs=3,
    )
    assert snapshot(bridge, profile="") == CallSnapshot()
    assert not turn_boundary(bridge)  # waiting for its start


def test_the_cluster_slot_is_one_more_limit() -> None:
    load = Load(running=1, awaiting_stream=0)
    limits = (NotDraining(False), MaxCalls(10))
    assert decide(load, (*limits, ClusterSlot(True))) == Admit()
    assert decide(load, (*limits, ClusterSlot(False))) == Refuse(CLUSTER_AT_CAPACITY)
    assert decide(load, (*limits, ClusterSlot(None))) == Refuse(CLUSTER_UNAVAILABLE)
    assert decide(load, (NotDraining(True), ClusterSlot(None))) == Refuse("draining")


def test_the_first_legs_start_round_trips() -> None:
    started = CallSnapshot(legs=3, started_at_s=1_800_000_000.125)
    assert started.encode()["started_at"] == "1800000000.125"
    assert CallSnapshot.decode(started.encode()) == started
    assert CallSnapshot.decode({**SNAPSHOT.encode(), "started_at": ""}) == SNAPSHOT

"""SessionKeeper: handles, goAway deadlines, reconnect attempts (backoff, jitter, flapping) and
the handover records, with exact values (jitter 0 where a delay is asserted exactly)."""

from __future__ import annotations

import pytest

from gateway.core.events import ReconnectLive
from gateway.core.handover import STABLE_SESSION_MS, HandoverRecord, ReconnectPolicy, SessionKeeper
from gateway.live.closes import CloseKind, close_info

INTERNAL = close_info(1011, "internal error", go_away_seen=False)
DROPPED = close_info(None, "", go_away_seen=False)  # 1006, resumable
NOT_FOUND = close_info(1008, "session not found", go_away_seen=False)
INVALID = close_info(1007, "invalid argument", go_away_seen=False)
PROTOCOL = close_info(1002, "protocol error", go_away_seen=False)
QUOTA = close_info(1011, "RESOURCE_EXHAUSTED: quota exceeded", go_away_seen=False)
QUOTA_1008 = close_info(1008, "Quota exceeded for the project", go_away_seen=False)

NO_JITTER = ReconnectPolicy(jitter=0.0)


def _keeper(policy: ReconnectPolicy = NO_JITTER, seed: str = "CA1") -> SessionKeeper:
    return SessionKeeper(policy, seed)


def _with_handle(policy: ReconnectPolicy = NO_JITTER, handle: str = "h1") -> SessionKeeper:
    keeper = _keeper(policy)
    keeper.resumption_update(handle, True, 1_000)
    return keeper


def test_the_close_fixtures_are_classified_as_the_tests_assume() -> None:
    assert [c.kind for c in (INTERNAL, DROPPED, NOT_FOUND, INVALID, PROTOCOL)] == [
        CloseKind.RESUMABLE,
        CloseKind.RESUMABLE,
        CloseKind.FATAL_CONFIG,
        CloseKind.FATAL_CONFIG,
        CloseKind.FATAL_CONFIG,
    ]
    assert (QUOTA.kind, QUOTA_1008.kind, DROPPED.code) == (CloseKind.QUOTA, CloseKind.QUOTA, 1006)


# ------------------------------------------------------------------------------ policy


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"jitter": 1.0}, "jitter"),
        ({"jitter": -0.1}, "jitter"),
        ({"backoff_ms": -1.0}, "backoff_ms"),
        ({"backoff_ms": 5_000.0, "backoff_max_ms": 4_000.0}, "backoff_ms"),
    ],
)
def test_the_policy_rejects_nonsense(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReconnectPolicy(**kwargs)  # type: ignore[arg-type]


def test_the_policy_defaults() -> None:
    policy = ReconnectPolicy()
    assert (policy.max_attempts, policy.backoff_ms, policy.backoff_max_ms) == (5, 250.0, 4_000.0)
    assert (policy.jitter, policy.handover_margin_ms) == (0.5, 5_000.0)
    assert STABLE_SESSION_MS == 5_000.0


# ------------------------------------------------------------------- resumption updates


def test_a_resumable_update_keeps_the_handle_and_its_time() -> None:
    keeper = _keeper()
    assert (keeper.handle, keeper.handle_at_ms, keeper.handle_fresh) == (None, None, False)
    keeper.resumption_update("h1", True, 1_000)
    assert (keeper.handle, keeper.handle_at_ms, keeper.handle_fresh) == ("h1", 1_000, True)
    keeper.resumption_update("h2", True, 2_500)
    assert (keeper.handle, keeper.handle_at_ms, keeper.handle_fresh) == ("h2", 2_500, True)


def test_a_non_resumable_update_keeps_the_old_handle_but_it_is_not_fresh() -> None:
    keeper = _with_handle()
    keeper.resumption_update("h-generating", False, 2_000)
    assert (keeper.handle, keeper.handle_at_ms, keeper.handle_fresh) == ("h1", 1_000, False)
    keeper.resumption_update(None, False, 2_100)
    assert (keeper.handle, keeper.handle_at_ms, keeper.handle_fresh) == ("h1", 1_000, False)
    keeper.resumption_update("h2", True, 3_000)
    assert (keeper.handle, keeper.handle_at_ms, keeper.handle_fresh) == ("h2", 3_000, True)


@pytest.mark.parametrize("handle", [None, ""])
def test_a_resumable_update_without_a_handle_keeps_nothing(handle: str | None) -> None:
    keeper = _with_handle()
    keeper.resumption_update(handle, True, 2_000)
    assert (keeper.handle, keeper.handle_at_ms, keeper.handle_fresh) == ("h1", 1_000, False)
    fresh = _keeper()
    fresh.resumption_update(handle, True, 2_000)
    assert (fresh.handle, fresh.handle_at_ms, fresh.handle_fresh) == (None, None, False)


# ----------------------------------------------------------------------------- goAway


@pytest.mark.parametrize(
    ("time_left_s", "deadline_ms"),
    [
        (50.0, 1_000 + 50_000 - 5_000),  # the full margin
        (10.0, 1_000 + 10_000 - 5_000),  # half the time left equals the margin
        (4.0, 1_000 + 4_000 - 2_000),  # half the time left: less than the margin
        (None, 1_000 + 10_000 - 5_000),  # no time given: 10 s assumed
        (0.0, 1_000),
        (-3.0, 1_000),  # nonsense is clamped to "now"
    ],
)
def test_go_away_deadline(time_left_s: float | None, deadline_ms: float) -> None:
    keeper = _keeper()
    assert not keeper.handover_due
    assert keeper.go_away(time_left_s, 1_000) == deadline_ms
    assert keeper.go_away_deadline_ms == deadline_ms
    assert keeper.handover_due


def test_go_away_deadline_respects_the_policy_margin() -> None:
    keeper = _keeper(ReconnectPolicy(handover_margin_ms=1_000))
    assert keeper.go_away(30.0, 0) == 29_000


def test_an_earlier_deadline_is_kept() -> None:
    keeper = _keeper()
    assert keeper.go_away(50.0, 1_000) == 46_000
    assert keeper.go_away(4.0, 2_000) == 4_000  # earlier: replaces
    assert keeper.go_away(50.0, 3_000) == 4_000  # later: the earlier one stays
    assert keeper.go_away_deadline_ms == 4_000


# ------------------------------------------------------------------------------ begin


def test_begin_resumes_at_once_with_the_newest_handle() -> None:
    keeper = _keeper()
    keeper.resumption_update("h1", True, 1_000)
    keeper.resumption_update("h2", True, 2_000)
    keeper.resumption_update("h3", False, 2_500)  # not resumable: h2 stays the newest usable
    keeper.go_away(30.0, 3_000)
    before = (keeper.reconnecting, keeper.handover_due)
    assert keeper.begin("go_away", 4_000, forced=False) == ReconnectLive(
        reason="go_away", handle="h2", delay_ms=0.0, context=None, attempt=1
    )
    after = (keeper.reconnecting, keeper.handover_due, keeper.go_away_deadline_ms)
    assert before == (False, True)
    assert after == (True, False, None)  # the deadline is spent


def test_begin_without_a_handle_is_a_fresh_session() -> None:
    keeper = _keeper()
    assert keeper.begin("close 1011", 500, forced=True, abrupt=True) == ReconnectLive(
        reason="close 1011", handle=None, delay_ms=0.0, attempt=1
    )
    record = keeper.opened(800)
    assert record == HandoverRecord("close 1011", True, 300.0, None, 1, "fresh")


# ------------------------------------------------------------------------ failed attempts


@pytest.mark.parametrize("refusal", [NOT_FOUND, INVALID], ids=["1008", "1007"])
def test_a_refused_handle_gets_one_fresh_attempt_then_fatal_is_final(refusal: object) -> None:
    keeper = _with_handle()
    assert keeper.begin("close 1011", 2_000, forced=True, abrupt=True) == ReconnectLive(
        "close 1011", handle="h1", delay_ms=0.0, attempt=1
    )
    assert keeper.attempt_failed(refusal) == ReconnectLive(  # type: ignore[arg-type]
        "close 1011", handle=None, delay_ms=0.0, attempt=2
    )
    # The fresh attempt failing the same way: nothing more can help.
    assert keeper.attempt_failed(refusal) is None  # type: ignore[arg-type]
    # The last attempt was fresh: no handle age is reported for it.
    assert keeper.gave_up() == HandoverRecord("close 1011", True, None, None, 2, "failed")
    assert not keeper.reconnecting


def test_a_fresh_attempt_that_fails_transiently_stays_fresh() -> None:
    keeper = _with_handle()
    keeper.begin("close 1011", 2_000, forced=True)
    assert keeper.attempt_failed(NOT_FOUND) == ReconnectLive("close 1011", None, 0.0, attempt=2)
    assert keeper.attempt_failed(INTERNAL) == ReconnectLive("close 1011", None, 500.0, attempt=3)
    assert keeper.opened(3_000) == HandoverRecord("close 1011", True, 1_000.0, None, 3, "fresh")


def test_fatal_on_a_fresh_first_attempt_is_final() -> None:
    keeper = _keeper()  # no handle: the first attempt is already fresh
    keeper.begin("close 1011", 2_000, forced=True)
    assert keeper.attempt_failed(NOT_FOUND) is None


def test_other_fatal_codes_on_a_resume_are_final() -> None:
    keeper = _with_handle()
    keeper.begin("close 1011", 2_000, forced=True)
    assert keeper.attempt_failed(PROTOCOL) is None


@pytest.mark.parametrize("quota", [QUOTA, QUOTA_1008], ids=["1011", "1008"])
def test_quota_is_final_even_on_a_resume(quota: object) -> None:
    keeper = _with_handle()
    keeper.begin("close 1011", 2_000, forced=True)
    assert keeper.attempt_failed(quota) is None  # type: ignore[arg-type]


def test_resumable_failures_back_off_250_500_1000_2000_then_give_up() -> None:
    keeper = _with_handle()
    assert keeper.begin("close 1011", 2_000, forced=True).delay_ms == 0.0  # type: ignore[union-attr]
    retries = [keeper.attempt_failed(INTERNAL) for _ in range(4)]
    assert retries == [
        ReconnectLive("close 1011", handle="h1", delay_ms=250.0, attempt=2),
        ReconnectLive("close 1011", handle="h1", delay_ms=500.0, attempt=3),
        ReconnectLive("close 1011", handle="h1", delay_ms=1_000.0, attempt=4),
        ReconnectLive("close 1011", handle="h1", delay_ms=2_000.0, attempt=5),
    ]
    assert keeper.attempt_failed(DROPPED) is None  # max_attempts (5) spent
    assert keeper.gave_up().as_dict() == {
        "reason": "close 1011",
        "forced": True,
        "gap_ms": None,
        "handle_age_ms": 1_000,
        "attempts": 5,
        "outcome": "failed",
    }


def test_backoff_is_capped() -> None:
    keeper = _with_handle(ReconnectPolicy(max_attempts=9, jitter=0.0, backoff_max_ms=1_500.0))
    keeper.begin("close 1006", 0, forced=True)
    delays = [keeper.attempt_failed(DROPPED).delay_ms for _ in range(8)]  # type: ignore[union-attr]
    assert delays == [250.0, 500.0, 1_000.0, 1_500.0, 1_500.0, 1_500.0, 1_500.0, 1_500.0]
    assert keeper.attempt_failed(DROPPED) is None


def test_one_attempt_allowed_means_no_retry() -> None:
    keeper = _with_handle(ReconnectPolicy(max_attempts=1))
    keeper.begin("close 1011", 0, forced=True)
    assert keeper.attempt_failed(INTERNAL) is None


def _delays(seed: str) -> list[float]:
    keeper = SessionKeeper(ReconnectPolicy())
    keeper.seed(seed)
    keeper.resumption_update("h1", True, 0)
    keeper.begin("close 1011", 0, forced=True)
    return [keeper.attempt_failed(INTERNAL).delay_ms for _ in range(4)]  # type: ignore[union-attr]


def test_jittered_delays_stay_within_the_band() -> None:
    for seed in ("CA1", "CA2", "CA3", "CAxyz"):
        delays = _delays(seed)
        for delay, base in zip(delays, (250.0, 500.0, 1_000.0, 2_000.0), strict=True):
            assert base * 0.5 <= delay < base * 1.5, (seed, delays)


def test_jitter_is_deterministic_per_seed_and_differs_between_seeds() -> None:
    assert _delays("CA1") == _delays("CA1")
    assert _delays("CA1") != _delays("CA2")
    # The constructor's seed and seed() are the same thing.
    keeper = SessionKeeper(ReconnectPolicy(), "CA1")
    keeper.resumption_update("h1", True, 0)
    keeper.begin("close 1011", 0, forced=True)
    assert keeper.attempt_failed(INTERNAL).delay_ms == _delays("CA1")[0]  # type: ignore[union-attr]
    # And the jitter really moves the delays off the base values.
    assert _delays("CA1") != [250.0, 500.0, 1_000.0, 2_000.0]


# ------------------------------------------------------------------------------ flapping


def _handed_over(policy: ReconnectPolicy = NO_JITTER) -> SessionKeeper:
    """A keeper whose session was replaced once (resumed at t=10 000 after one attempt)."""
    keeper = _with_handle(policy)
    keeper.begin("close 1011", 10_000, forced=True, abrupt=True)
    keeper.opened(10_000)
    return keeper


def test_a_session_from_a_handover_that_dies_within_5_s_continues_the_attempt_count() -> None:
    keeper = _handed_over()
    assert keeper.session_lived_ms(14_999) == 4_999
    assert keeper.flapping(14_999)
    assert keeper.begin("close 1011", 14_999, forced=True, abrupt=True) == ReconnectLive(
        "close 1011", handle="h1", delay_ms=250.0, attempt=2
    )
    assert keeper.attempt_failed(INTERNAL) == ReconnectLive("close 1011", "h1", 500.0, attempt=3)
    assert keeper.opened(16_000).attempts == 3
    # That one dies quickly too: the count goes on from 3.
    assert keeper.begin("close 1006", 17_000, forced=True, abrupt=True) == ReconnectLive(
        "close 1006", handle="h1", delay_ms=1_000.0, attempt=4
    )


def test_a_session_that_stayed_up_5_s_starts_a_new_outage() -> None:
    keeper = _handed_over()
    assert not keeper.flapping(15_000)
    assert keeper.begin("close 1011", 15_000, forced=True, abrupt=True) == ReconnectLive(
        "close 1011", handle="h1", delay_ms=0.0, attempt=1
    )


def test_a_go_away_handover_soon_after_a_handover_continues_the_outage_too() -> None:
    # Issue 22: a goAway with no time left after every setup looped without backoff. A session
    # a handover opened and a goAway ends within 5 s is the same outage as a quick close.
    keeper = _handed_over()
    assert keeper.begin("go_away", 11_000, forced=True) == ReconnectLive(
        "go_away", handle="h1", delay_ms=250.0, attempt=2
    )
    keeper.opened(11_300)
    assert keeper.begin("go_away", 16_300, forced=False) == ReconnectLive(  # stayed up 5 s
        "go_away", handle="h1", delay_ms=0.0, attempt=1
    )


def test_go_away_with_no_time_left_after_every_setup_backs_off_then_gives_up() -> None:
    keeper = _with_handle()
    now, delays = 10_000.0, []
    while (command := keeper.begin("go_away", now, forced=True)) is not None:
        delays.append(command.delay_ms)
        now += command.delay_ms + 20
        keeper.opened(now)  # the new session gets goAway(0s) at once
    assert delays == [0.0, 250.0, 500.0, 1_000.0, 2_000.0]
    assert now == 13_850
    assert keeper.gave_up() == HandoverRecord("go_away", True, None, 12_850, 5, "failed")
    assert keeper.attempts_made == 5


def test_a_stalled_session_that_never_answered_continues_the_outage_even_after_5_s() -> None:
    keeper = _handed_over()
    assert keeper.begin("stalled", 40_000, forced=True, answered=False) == ReconnectLive(
        "stalled", handle="h1", delay_ms=250.0, attempt=2
    )
    keeper.opened(40_300)
    assert keeper.begin("stalled", 80_000, forced=True, answered=True) == ReconnectLive(
        "stalled",
        handle="h1",
        delay_ms=0.0,
        attempt=1,  # it answered, then stalled: new outage
    )


def test_the_first_session_stalling_is_a_new_outage() -> None:
    keeper = _with_handle()
    keeper.session_opened_ms = 900
    assert keeper.begin("stalled", 30_000, forced=True, answered=False) == ReconnectLive(
        "stalled", handle="h1", delay_ms=0.0, attempt=1
    )


def test_a_call_makes_at_most_max_attempts_per_call_attempts() -> None:
    keeper = _with_handle(ReconnectPolicy(jitter=0.0, max_attempts=2, max_attempts_per_call=3))
    now = 10_000.0
    for _ in range(3):  # three stable sessions, each replaced once
        assert keeper.begin("close 1011", now, forced=True) is not None
        keeper.opened(now)
        now += 60_000
    assert keeper.attempts_made == 3
    assert keeper.begin("close 1011", now, forced=True) is None
    assert keeper.gave_up().attempts == 0
    # A failed attempt past the budget ends the outage too.
    keeper = _with_handle(ReconnectPolicy(jitter=0.0, max_attempts=3, max_attempts_per_call=3))
    assert keeper.begin("close 1011", 0, forced=True) is not None
    keeper.opened(0)
    assert keeper.begin("close 1011", 60_000, forced=True) is not None
    assert keeper.attempt_failed(INTERNAL) is not None
    assert keeper.attempt_failed(INTERNAL) is None
    assert keeper.gave_up().attempts == 2


def test_the_per_call_budget_is_at_least_one_outage() -> None:
    with pytest.raises(ValueError, match="max_attempts_per_call"):
        ReconnectPolicy(max_attempts=5, max_attempts_per_call=4)
    assert ReconnectPolicy().max_attempts_per_call == 60


def test_the_first_session_is_not_a_handover_so_an_early_close_is_not_flapping() -> None:
    keeper = _with_handle()
    keeper.session_opened_ms = 900  # the bridge notes when the first session opened
    assert not keeper.flapping(1_500)
    assert keeper.begin("close 1011", 1_500, forced=True, abrupt=True) == ReconnectLive(
        "close 1011", handle="h1", delay_ms=0.0, attempt=1
    )


def test_flapping_past_the_last_attempt_gives_up_at_once() -> None:
    keeper = _with_handle(ReconnectPolicy(max_attempts=2, jitter=0.0))
    keeper.begin("close 1011", 10_000, forced=True, abrupt=True)
    assert keeper.attempt_failed(INTERNAL) == ReconnectLive("close 1011", "h1", 250.0, attempt=2)
    keeper.opened(10_300)
    assert keeper.begin("close 1011", 11_000, forced=True, abrupt=True) is None
    assert keeper.gave_up().outcome == "failed"


# ---------------------------------------------------------------------- records, summary


def test_records_and_summary() -> None:
    keeper = _keeper()
    keeper.resumption_update("h1", True, 1_000.4)
    keeper.go_away(30.0, 2_000)
    keeper.begin("go_away", 3_000, forced=False)
    first = keeper.opened(3_123.456)
    assert first == HandoverRecord(
        reason="go_away",
        forced=False,
        gap_ms=pytest.approx(123.456),  # type: ignore[arg-type]
        handle_age_ms=pytest.approx(1_999.6),  # type: ignore[arg-type]
        attempts=1,
        outcome="resumed",
    )
    assert not keeper.reconnecting
    assert not keeper.handle_fresh  # the new session has sent no update yet
    assert keeper.session_opened_ms == 3_123.456
    # A refused handle: the replacement is fresh, so no handle age.
    keeper.resumption_update("h2", True, 60_000)
    keeper.begin("close 1011", 61_000, forced=True, abrupt=True)
    keeper.attempt_failed(NOT_FOUND)
    keeper.opened(61_400)
    # Every attempt fails.
    keeper.begin("close 1006", 120_000, forced=True, abrupt=True)
    keeper.attempt_failed(QUOTA)
    keeper.gave_up()
    assert keeper.summary() == [
        {
            "reason": "go_away",
            "forced": False,
            "gap_ms": 123.5,
            "handle_age_ms": 2_000,
            "attempts": 1,
            "outcome": "resumed",
        },
        {
            "reason": "close 1011",
            "forced": True,
            "gap_ms": 400.0,
            "handle_age_ms": None,
            "attempts": 2,
            "outcome": "fresh",
        },
        {
            "reason": "close 1006",
            "forced": True,
            "gap_ms": None,
            "handle_age_ms": 60_000,
            "attempts": 1,
            "outcome": "failed",
        },
    ]
    assert keeper.records[1] == HandoverRecord("close 1011", True, 400.0, None, 2, "fresh")

"""AwaitingStreams: answered calls until their stream redeems its token or the token expires."""

from __future__ import annotations

from gateway.core.events import CallStarted
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.shell.awaiting_streams import AwaitingStreams, Redeemed

SECRET = b"s" * 32


def _started(call_id: str, token: str) -> CallStarted:
    return CallStarted(
        call_id=call_id, stream_id="MZ1", custom_parameters={STREAM_TOKEN_PARAMETER: token}
    )


def test_a_redeemed_call_no_longer_awaits_and_gets_its_parties_back() -> None:
    now = [1000.0]
    awaiting = AwaitingStreams(SECRET, ttl_s=60.0, wall_clock_s=lambda: now[0])
    token = awaiting.issue("CA1", profile="sales", parties=("+1555", "+1666"))
    awaiting.issue("CA2")
    assert len(awaiting) == 2
    assert awaiting.redeem(_started("CA1", token)) == Redeemed("sales", "+1555", "+1666")
    assert len(awaiting) == 1
    assert awaiting.redeem(_started("CA1", token)) == "token reused"


def test_an_expired_token_frees_its_place_and_the_next_expiry_is_known() -> None:
    now = [1000.0]
    awaiting = AwaitingStreams(SECRET, ttl_s=60.0, wall_clock_s=lambda: now[0])
    assert awaiting.seconds_to_next_expiry() is None
    awaiting.issue("CA1")
    now[0] += 20.0
    late = awaiting.issue("CA2")
    assert awaiting.seconds_to_next_expiry() == 40.0
    now[0] += 40.0  # CA1's token expires now
    assert len(awaiting) == 1
    assert awaiting.seconds_to_next_expiry() == 20.0
    now[0] += 20.0
    assert len(awaiting) == 0
    assert awaiting.redeem(_started("CA2", late)) == "token expired"

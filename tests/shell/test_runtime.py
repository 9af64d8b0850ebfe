"""GatewayRuntime and LiveConnector: tokens through the runtime, session claims, observers."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from gateway.agents.profile import AgentDirectory, AgentProfile
from gateway.core.events import CallStarted
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.live.closes import close_info
from gateway.live.endpoints import Backend
from gateway.live.setup import LiveConfig
from gateway.settings import load_settings
from gateway.shell.call_runner import CallRunner
from gateway.shell.connector import LiveConnector
from gateway.shell.live_client import LiveConnectError, LiveSession
from gateway.shell.runtime import (
    FALLBACK_MESSAGE,
    FALLBACK_TRANSFER_MESSAGE,
    Admitted,
    CallRecord,
    GatewayRuntime,
    Refusal,
    StreamGrant,
)

SETTINGS = load_settings(
    {"GATEWAY_LIVE_URL": "ws://127.0.0.1:1/live", "GATEWAY_SECRET": "x" * 32}, env_file=None
)


class FakeConnector:
    def __init__(self) -> None:
        self.opened = 0
        self.fail = False
        self.configs: list[LiveConfig | None] = []

    async def open(
        self, *, resume_handle: str | None = None, config: LiveConfig | None = None
    ) -> LiveSession:
        self.configs.append(config)
        if self.fail:
            raise LiveConnectError("no", close_info(1008, "no", go_away_seen=False))
        self.opened += 1
        return cast(LiveSession, object())


def _runtime(connector: FakeConnector, now_s: list[float]) -> GatewayRuntime:
    return GatewayRuntime(SETTINGS, cast(LiveConnector, connector), wall_clock_s=lambda: now_s[0])


def _started(call_id: str, token: str | None) -> CallStarted:
    params = {} if token is None else {STREAM_TOKEN_PARAMETER: token}
    return CallStarted(call_id=call_id, stream_id="MZ1", custom_parameters=params)


def test_authorize_accepts_a_fresh_token_once_and_names_refusals() -> None:
    now = [1000.0]
    runtime = _runtime(FakeConnector(), now)
    token = runtime.issue_token("CA1")
    assert runtime.authorize(_started("CA1", token)) is None
    assert runtime.authorize(_started("CA1", token)) == "token reused"
    assert runtime.authorize(_started("CA2", runtime.issue_token("CA1"))) == "token wrong_call"
    assert runtime.authorize(_started("CA1", None)) == "token missing"
    late = runtime.issue_token("CA3")
    now[0] += SETTINGS.server.stream_token_ttl_s + 1
    assert runtime.authorize(_started("CA3", late)) == "token expired"
    assert runtime.streams_rejected == 4


async def test_claim_prefers_the_prewarmed_session_and_falls_back_to_a_fresh_one() -> None:
    connector = FakeConnector()
    runtime = _runtime(connector, [0.0])
    runtime.prewarm.start("CA1")
    await runtime.claim_session("CA1")
    assert connector.opened == 1  # the pre-warm's, claimed
    await runtime.claim_session("CA2")  # nothing pre-warmed: a fresh connect
    assert connector.opened == 2
    await runtime.aclose()


async def test_a_failed_prewarm_gets_one_fresh_attempt() -> None:
    connector = FakeConnector()
    runtime = _runtime(connector, [0.0])
    connector.fail = True
    runtime.prewarm.start("CA1")
    with pytest.raises(LiveConnectError):
        await runtime.claim_session("CA1")
    connector.fail = False
    runtime.prewarm.start("CA2")
    await runtime.claim_session("CA2")
    assert connector.opened == 1
    await runtime.aclose()


def test_observers_see_each_call_and_a_failing_one_does_not_break_the_others() -> None:
    runtime = _runtime(FakeConnector(), [0.0])
    seen: list[CallRecord] = []

    def broken(_record: CallRecord) -> None:
        raise RuntimeError("observer bug")

    runtime.observers += [broken, seen.append]
    record = CallRecord("twilio", "CA1", {"end_reason": "carrier stop"}, [])
    runtime.call_ended(record)
    assert seen == [record]
    assert runtime.calls_total == 1


def test_connector_uses_the_configured_or_embedded_url() -> None:
    custom = LiveConnector.from_settings(SETTINGS)
    embedded = LiveConnector.from_settings(SETTINGS, live_url="ws://127.0.0.1:2/live")
    developer = LiveConnector.from_settings(
        load_settings({"GEMINI_API_KEY": "key-123456789"}, env_file=None)
    )
    assert custom.config == SETTINGS.live
    endpoints: list[Any] = []

    async def collect() -> None:
        for connector in (custom, embedded, developer):
            endpoints.append(await connector._endpoint())

    asyncio.run(collect())
    assert [e.url for e in endpoints[:2]] == ["ws://127.0.0.1:1/live", "ws://127.0.0.1:2/live"]
    assert endpoints[2].backend is Backend.DEVELOPER
    assert endpoints[2].url.startswith("wss://generativelanguage.googleapis.com/ws/")


# ------------------------------------------------------------------------ admission and drain


def _limited(max_calls: int, **env: str) -> GatewayRuntime:
    settings = load_settings(
        {
            "GATEWAY_LIVE_URL": "ws://127.0.0.1:1/live",
            "GATEWAY_SECRET": "x" * 32,
            "GATEWAY_MAX_CALLS": str(max_calls),
            **env,
        },
        env_file=None,
    )
    return GatewayRuntime(settings, cast(LiveConnector, FakeConnector()))


class FakeCall:
    """Stands in for a CallRunner holding a call slot until it ends (by itself or on request)."""

    def __init__(self) -> None:
        self.call_id = "CA1"
        self.end_reasons: list[str] = []
        self.done = asyncio.Event()

    def request_end(self, reason: str) -> None:
        self.end_reasons.append(reason)
        self.done.set()

    async def hold(self, runtime: GatewayRuntime) -> None:
        async with runtime.call_slot(cast(CallRunner, self)):
            await self.done.wait()


def test_admission_counts_running_calls_and_calls_awaiting_their_stream() -> None:
    now = [1000.0]
    runtime = GatewayRuntime(
        load_settings(
            {"GATEWAY_LIVE_URL": "ws://127.0.0.1:1/live", "GATEWAY_MAX_CALLS": "2"}, env_file=None
        ),
        cast(LiveConnector, FakeConnector()),
        wall_clock_s=lambda: now[0],
    )
    assert runtime.admission() is None
    runtime.issue_token("CA1")
    runtime.issue_token("CA2")
    assert runtime.load == 2
    assert not runtime.ready
    refusal = runtime.admission()
    assert refusal == Refusal("at capacity", FALLBACK_MESSAGE, None)
    # A token that expires unused frees its place.
    now[0] += runtime.settings.server.stream_token_ttl_s + 1
    assert runtime.load == 0
    assert runtime.admission() is None
    assert runtime.refused == {"at capacity": 1}


def test_a_redeemed_token_moves_the_call_from_awaiting_to_running() -> None:
    runtime = _limited(1)
    token = runtime.issue_token("CA1")
    assert runtime.admission() is not None
    assert runtime.authorize(_started("CA1", token)) is None
    assert runtime.load == 0  # the runner holds the slot in real life (see call_slot)


def test_draining_refuses_with_the_fallback_number() -> None:
    runtime = _limited(5, GATEWAY_FALLBACK_NUMBER="+15551234567")
    runtime.draining = True
    refusal = runtime.admission()
    assert refusal is not None
    assert refusal.reason == "draining"
    assert refusal.transfer_to == "+15551234567"
    assert refusal.message == FALLBACK_TRANSFER_MESSAGE
    assert not runtime.ready


async def test_drain_lets_calls_finish_on_their_own() -> None:
    runtime = _limited(5)
    call = FakeCall()
    holder = asyncio.create_task(call.hold(runtime))
    await asyncio.sleep(0)
    assert runtime.active_calls == 1
    drain = asyncio.create_task(runtime.drain(60.0))
    await asyncio.sleep(0)
    assert runtime.draining
    assert runtime.admission() is not None
    call.done.set()  # the caller hangs up
    assert await drain == 0
    assert call.end_reasons == []
    await holder


async def test_drain_ends_the_calls_left_when_the_timeout_passes() -> None:
    runtime = _limited(5)
    calls = [FakeCall(), FakeCall()]
    holders = [asyncio.create_task(call.hold(runtime)) for call in calls]
    await asyncio.sleep(0)
    assert await runtime.drain(0.0) == 2
    assert [call.end_reasons for call in calls] == [["draining"], ["draining"]]
    assert runtime.active_calls == 0
    await asyncio.gather(*holders)


async def test_a_hurried_drain_stops_waiting() -> None:
    runtime = _limited(5)
    call = FakeCall()
    holder = asyncio.create_task(call.hold(runtime))
    await asyncio.sleep(0)
    drain = asyncio.create_task(runtime.drain(3600.0))
    await asyncio.sleep(0)
    runtime.hurry_drain()  # a second signal
    assert await drain == 1
    assert call.end_reasons == ["draining"]
    await holder


async def test_drain_waits_for_a_stream_answered_before_it() -> None:
    runtime = _limited(5)
    runtime.issue_token("CA1")
    drain = asyncio.create_task(runtime.drain(0.3))
    # The stream never comes: the drain gives up at its timeout with no call to end.
    assert await drain == 0


# ------------------------------------------------------------------------------ agent profiles


def _agents() -> AgentDirectory:
    sales = AgentProfile(
        "sales", LiveConfig(voice="Puck", instructions="You sell."), numbers=("+15550001111",)
    )
    support = AgentProfile("support", LiveConfig(voice="Kore"), numbers=("+15550002222",))
    return AgentDirectory({"sales": sales, "support": support}, default=None)


async def test_a_webhook_picks_the_agent_of_the_dialed_number_and_its_stream_gets_it() -> None:
    connector = FakeConnector()
    agents = _agents()
    runtime = GatewayRuntime(
        SETTINGS, cast(LiveConnector, connector), agents=agents, wall_clock_s=lambda: 1000.0
    )
    taken = runtime.admit_call("CA1", to_number="+1 555 000 1111", from_number="+15557654321")
    assert isinstance(taken, Admitted)
    assert (taken.profile, taken.prewarming) == ("sales", True)
    await runtime.claim_session("CA1")  # the pre-warm, opened with the sales setup
    assert connector.configs == [agents.profiles["sales"].live]
    grant = runtime.grant(_started("CA1", taken.token))
    assert grant == StreamGrant(agents.profiles["sales"], "+15557654321", "+1 555 000 1111")
    await runtime.claim_session("CA9", agents.profiles["support"].live)  # a fresh connect
    assert connector.configs[-1] == agents.profiles["support"].live
    await runtime.aclose()


async def test_a_number_no_agent_answers_is_refused_without_token_or_session() -> None:
    connector = FakeConnector()
    runtime = GatewayRuntime(SETTINGS, cast(LiveConnector, connector), agents=_agents())
    refusal = runtime.admit_call("CA1", to_number="+15559999999")
    assert refusal == Refusal("no agent", FALLBACK_MESSAGE, None)
    assert runtime.refused == {"no agent": 1}
    assert runtime.load == 0
    assert len(runtime.prewarm) == 0
    await runtime.aclose()


def test_a_token_from_a_replica_with_other_profiles_gets_the_default_or_is_refused() -> None:
    now = [1000.0]
    with_default = AgentDirectory(dict(_agents().profiles), default="support")
    runtime = GatewayRuntime(
        SETTINGS,
        cast(LiveConnector, FakeConnector()),
        agents=with_default,
        wall_clock_s=lambda: now[0],
    )
    token = runtime.issue_token("CA1", profile="retired")
    grant = runtime.grant(_started("CA1", token))
    assert isinstance(grant, StreamGrant)
    assert grant.profile.name == "support"
    assert (grant.from_number, grant.to_number) == (None, None)
    strict = GatewayRuntime(
        SETTINGS,
        cast(LiveConnector, FakeConnector()),
        agents=_agents(),
        wall_clock_s=lambda: now[0],
    )
    token = strict.issue_token("CA2", profile="retired")
    assert strict.grant(_started("CA2", token)) == "unknown profile 'retired'"
    assert strict.streams_rejected == 1

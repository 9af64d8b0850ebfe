"""What calls share across the process besides Live: agents, tools, HTTP, call control, files.

`GatewayServices` lives on `app.state.services` for the life of the server (built at start-up so
a bad tools, profiles or prices file stops it). `for_call(carrier, control, grant)` gives one call
its `CallServices`: how to open replacement Live sessions with its agent's setup, run its tools
and reach its carrier's REST API; `bridge_options(profile)` the bridge's options for that agent.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace
from typing import Any

import httpx

from gateway.agents.loader import load_agents, profile_from_settings
from gateway.agents.prices import PriceTable, load_prices
from gateway.agents.profile import AgentDirectory, AgentProfile
from gateway.carriers.control import CallControl
from gateway.cluster.link import RedisLink
from gateway.core.options import BridgeOptions
from gateway.log import get_logger
from gateway.settings import Settings
from gateway.shell.call_control import CallControlClient
from gateway.shell.call_legs import CallLeg, call_delivery_id, whole_call
from gateway.shell.call_plan import CallPlan
from gateway.shell.call_tasks import CallServices
from gateway.shell.call_webhooks import CallWebhooks, WebhookPolicy, call_document
from gateway.shell.cluster_outbox import OUTBOX_LEASE_S, RedisOutbox
from gateway.shell.connector import LiveConnector
from gateway.shell.hold_audio import HoldSounds
from gateway.shell.live_client import LiveSession
from gateway.shell.recordings import RecordingStore
from gateway.shell.runtime import CallRecord, StreamGrant
from gateway.shell.webhook_outbox import MemoryOutbox, OutboxStore
from gateway.tools.base import ToolContext, ToolLimits
from gateway.tools.startup import load_toolbox_from_settings
from gateway.tools.toolbox import Toolbox

__all__ = ["GatewayServices"]

_HTTP_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=50)
"""Tools' requests to business backends (every request sets its own timeout)."""
_CONTROL_LIMITS = httpx.Limits(max_connections=50, max_keepalive_connections=10)
"""Carrier REST requests (transfer, hang-up): their own pool, so that tools waiting on a slow
backend can never hold the connections a call needs to hang up."""
_WEBHOOK_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=8)
"""Post-call webhooks: their own pool, never shared with a call's tools or carrier REST."""
_log = get_logger(component="gateway")


def _ms(seconds: float | None, policy_ms: float | None) -> float | None:
    """A profile's seconds (0: off) over the call policy's ms (None: off)."""
    if seconds is None:
        return policy_ms
    return seconds * 1000 if seconds else None


def _hold_after(profile: AgentProfile | None, policy_ms: float | None) -> float | None:
    """A profile's ms (0: none) over the call policy's (None: none)."""
    if profile is None or profile.hold_after_ms is None:
        return policy_ms
    return profile.hold_after_ms or None


class GatewayServices:
    def __init__(
        self,
        settings: Settings,
        connector: LiveConnector,
        toolbox: Toolbox | None,
        agents: AgentDirectory | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self.settings = settings
        self.connector = connector
        self.toolbox = toolbox
        self.agents = agents or AgentDirectory.single(profile_from_settings(settings, toolbox))
        self.prices = prices
        self.recordings: RecordingStore | None = None
        if settings.recordings_dir is not None:
            self.recordings = RecordingStore(
                settings.recordings_dir, retention_days=settings.recordings_retention_days
            )
        # Tools and carrier REST requests each have their own client and connection pool.
        self.http = httpx.AsyncClient(limits=_HTTP_LIMITS, follow_redirects=False)
        self.control_http = httpx.AsyncClient(limits=_CONTROL_LIMITS, follow_redirects=False)
        self.control_client = CallControlClient(self.control_http)
        policy_file = settings.call.hold_audio_file
        files = {policy_file} | {p.hold_audio_file for p in self.agents.profiles.values()}
        self.hold_sounds = HoldSounds({f or policy_file for f in files})
        """The hold sounds, read and resampled once (a bad file stops start-up)."""
        self.webhooks: CallWebhooks | None = None
        self.shared_outbox: RedisOutbox | None = None
        """The post-call webhooks, when a URL is configured (for all, or for a profile)."""
        hooks = settings.call_webhooks
        urls = {hooks.url} | {p.call_webhook_url for p in self.agents.profiles.values()}
        if hooks.secret is not None and urls - {None}:
            policy = WebhookPolicy(
                timeout_s=hooks.timeout_s,
                max_attempts=hooks.max_attempts,
                max_age_s=hooks.max_age_s,
                max_pending=hooks.queue_max,
            )
            self.webhooks_http = httpx.AsyncClient(limits=_WEBHOOK_LIMITS, follow_redirects=False)
            store: OutboxStore = MemoryOutbox(hooks.queue_max)
            if settings.server.redis_url:  # cluster mode: pending deliveries kept in Redis
                store = self.shared_outbox = RedisOutbox(
                    RedisLink(settings.server.redis_url),
                    hooks.queue_max,
                    lease_s=max(OUTBOX_LEASE_S, 3 * hooks.timeout_s),
                )
            self.webhooks = CallWebhooks(self.webhooks_http, hooks.secret, store, policy)

    @classmethod
    def load(cls, settings: Settings, connector: LiveConnector) -> GatewayServices:
        """Load the tools, profiles and prices files (each error stops start-up with its
        message); the connector's own setup becomes the default agent's."""
        toolbox = load_toolbox_from_settings(settings)
        if settings.agents_file is not None:
            agents = load_agents(settings.agents_file, settings, toolbox)
        else:
            agents = AgentDirectory.single(profile_from_settings(settings, toolbox))
        prices = load_prices(settings.prices_file) if settings.prices_file is not None else None
        default = agents.select(None)
        if default is not None:  # calls always pass their profile's setup; this is for the rest
            connector.config = default.live
        _log.info(
            "agents.loaded",
            source=agents.source,
            default=agents.default,
            profiles={
                profile.name: {
                    "model": profile.live.model.rsplit("/", 1)[-1],
                    "numbers": len(profile.numbers),
                    "tools": list(profile.tool_names),
                    "speaks_first": profile.speaks_first,
                    "records": list(profile.recorded),
                }
                for profile in agents.profiles.values()
            },
        )
        return cls(settings, connector, toolbox, agents, prices)

    def bridge_options(self, profile: AgentProfile | None = None) -> BridgeOptions:
        """The bridge's options for a call answered by `profile` (default: the default agent)."""
        profile = profile or self.agents.select(None)
        names = frozenset(profile.tool_names) if profile is not None else frozenset()
        greeting = profile.greeting_prompt if profile is not None and profile.speaks_first else None
        limits = self.toolbox.limits if self.toolbox is not None else ToolLimits()
        policy = self.settings.call
        hold_file = (profile.hold_audio_file if profile else None) or policy.hold_audio_file
        return replace(  # the call policy (timeouts, buffers, reconnects) is the settings'
            policy,
            tool_names=names,
            max_running_tools=limits.max_running_per_call,
            greeting_text=greeting,
            digit_collections=self.toolbox.digit_collections(names) if self.toolbox else (),
            non_blocking_tools=self._non_blocking(names),
            hold_after_ms=_hold_after(profile, policy.hold_after_ms),
            hold_pcm=self.hold_sounds.pcm(hold_file),
            silence_prompt_ms=_ms(
                profile.silence_prompt_s if profile else None, policy.silence_prompt_ms
            ),
            silence_hangup_ms=_ms(
                profile.silence_hangup_s if profile else None, policy.silence_hangup_ms
            ),
        )

    def _non_blocking(self, names: frozenset[str]) -> frozenset[str]:
        toolbox = self.toolbox
        if toolbox is None:
            return frozenset()
        specs = (toolbox.spec(name) for name in names)
        return frozenset(s.name for s in specs if s is not None and s.non_blocking)

    def for_call(
        self, carrier: str, control: CallControl | None, grant: StreamGrant | None = None
    ) -> CallServices:
        connector, http = self.connector, self.http
        config = grant.profile.live if grant is not None else None
        from_number = grant.from_number if grant is not None else None
        to_number = grant.to_number if grant is not None else None

        async def open_session(handle: str | None, context: str | None) -> LiveSession:
            return await connector.open(resume_handle=handle, context=context, config=config)

        def tool_context(call_id: str) -> ToolContext:
            return ToolContext(
                http=http,
                carrier=carrier,
                carrier_call_id=call_id,
                from_number=from_number,
                to_number=to_number,
            )

        return CallServices(
            open_session=open_session,
            tools=self.toolbox,
            tool_context=tool_context,
            control=control,
            control_client=self.control_client,
        )

    def estimate_cost(
        self, profile: AgentProfile, summary: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The call's estimated cost from the price table (None without one or a price)."""
        usage = summary.get("usage")
        if self.prices is None or not isinstance(usage, dict):
            return None
        return self.prices.estimate(profile.live.model, usage)

    async def warm_up(self) -> None:
        """Warm the HTTP client the first calls use (tools, carrier REST) and resolve their known
        hosts: bounded, no request to any backend, never fails start-up (gateway.shell.warmup)."""
        from gateway.shell.warmup import carrier_rest_origins, tool_origins, warm_up

        # Tools and carrier REST have separate clients (a tool flood must not starve a hang-up):
        # each is warmed with the hosts it will talk to.
        await asyncio.gather(
            warm_up(self.http, tool_origins(self.toolbox), what="tools"),
            warm_up(self.control_http, carrier_rest_origins(self.settings), what="carrier_rest"),
        )

    def start_shared_webhooks(self) -> None:
        """Cluster mode: start the webhook workers at once, so that this replica also finishes
        the deliveries the others left in Redis (without, they start with the first call)."""
        if self.webhooks is not None and self.shared_outbox is not None:
            self.webhooks.start()

    async def call_carried_on(self, carrier: str, call_id: str, leg: int) -> None:
        """Cluster mode: leg `leg` of `call_id` started here; the document an earlier leg
        queued is withdrawn (this leg or a later one sends the whole call's)."""
        if self.webhooks is not None:
            await self.webhooks.withdraw(call_delivery_id(carrier, call_id), leg)

    async def post_call(
        self,
        record: CallRecord,
        plan: CallPlan,
        *,
        stream_id: str | None,
        leg: CallLeg | None = None,
    ) -> None:
        """Queue the ended call's webhook document, if its agent has a webhook (never waits
        for the receiver). `leg` (cluster mode): the document covers the whole call, under the
        call's id, late when this leg did not end the call (gateway.shell.call_legs)."""
        webhooks = self.webhooks
        profile = self.agents.get(plan.profile)
        url = (profile.call_webhook_url if profile else None) or self.settings.call_webhooks.url
        if webhooks is None or url is None:
            return
        webhooks.start()
        recordings: dict[str, str | None] = {"audio": None, "transcript": None}
        if plan.recording is not None and profile is not None:
            paths = plan.recording.paths
            recordings["audio"] = paths.audio.name if profile.record_audio else None
            recordings["transcript"] = paths.transcript.name if profile.record_transcript else None
        delivery_id = str(uuid.uuid4())
        if leg is not None:
            delivery_id = call_delivery_id(record.carrier, record.call_id)
        document = call_document(
            delivery_id=delivery_id,
            carrier=record.carrier,
            call_id=record.call_id,
            stream_id=stream_id,
            direction=plan.direction,
            from_number=plan.from_number,
            to_number=plan.to_number,
            profile=record.profile,
            ended_at_s=time.time(),
            summary=record.summary,
            transcript=record.transcript,
            recordings=recordings,
        )
        delay_s = 0.0
        if leg is not None:
            document, delay_s = whole_call(document, leg), leg.delay_s
        try:
            await webhooks.submit(
                url, document, delay_s=delay_s, leg=0 if leg is None else leg.number
            )
        except Exception as exc:  # a store that fails must not fail the call's reporting
            _log.error("webhook.submit_failed", error_type=type(exc).__name__)

    async def aclose(self) -> None:
        if self.webhooks is not None:  # after the drain: the last calls' documents get a try
            await self.webhooks.close()
            await self.webhooks_http.aclose()
        if self.shared_outbox is not None:
            await self.shared_outbox.aclose()
        if self.toolbox is not None:
            self.toolbox.close()
        await self.http.aclose()
        await self.control_http.aclose()

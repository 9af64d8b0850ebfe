"""Running one carrier media stream as a call: the part every carrier's media route shares.

A carrier's WebSocket route checks what is carrier-specific (the upgrade's signature), accepts
the socket and hands it here with the carrier's translator and call control. `run_media_stream`
builds the call's bridge and runner, authorizes the stream's `start` (its token names the agent
profile the webhook chose: that profile's bridge options, Live setup, tools and recording make
the call's `CallPlan`), holds a call slot in the runtime while it runs (so drain and metrics see
it), and reports the finished call: its summary (with the estimated cost when prices are
configured), its recording and transcript files when the profile asked for them.
"""

from __future__ import annotations

from typing import Any

import structlog
from starlette.websockets import WebSocket

from gateway.carriers.base import CarrierTranslator
from gateway.carriers.control import CallControl
from gateway.carriers.messages import MAX_ID_CHARS
from gateway.core.bridge import CallBridge
from gateway.core.events import CallStarted
from gateway.shell.call_plan import CallPlan
from gateway.shell.call_recording import CallRecording
from gateway.shell.call_runner import CallRunner, RunnerOptions
from gateway.shell.live_client import LiveSession
from gateway.shell.runtime import CallRecord, GatewayRuntime
from gateway.shell.services import GatewayServices

__all__ = ["run_media_stream"]


async def run_media_stream(
    ws: WebSocket,
    runtime: GatewayRuntime,
    translator: CarrierTranslator,
    *,
    control: CallControl | None = None,
) -> None:
    """Run an accepted media stream to its end (never raises for bad input)."""
    services: GatewayServices = ws.app.state.services
    carrier = translator.carrier
    plans: list[CallPlan] = []

    def authorize(started: CallStarted) -> str | CallPlan:
        if max(len(started.call_id), len(started.stream_id)) > MAX_ID_CHARS:
            runtime.counters.stream_rejected()
            return "call id too long"  # no webhook answered such a call: no token either
        grant = runtime.grant(started)
        if isinstance(grant, str):
            return grant
        profile = grant.profile
        recording = None
        if profile.records and services.recordings is not None:
            recording = CallRecording(
                services.recordings,
                profile,
                carrier,
                started,
                from_number=grant.from_number,
                to_number=grant.to_number,
            )
        live = profile.live

        async def claim(call_id: str) -> LiveSession:
            return await runtime.claim_session(call_id, live)

        plan = CallPlan(
            profile=profile.name,
            bridge_options=services.bridge_options(profile),
            services=services.for_call(carrier, control, grant),
            claim_session=claim,
            recording=recording,
        )
        plans.append(plan)
        return plan

    runner = CallRunner(
        ws,
        translator,
        CallBridge(services.bridge_options()),
        authorize=authorize,
        claim_session=runtime.claim_session,
        options=RunnerOptions(),
    )  # its services, tools and sessions come with the plan `authorize` returns
    summary: dict[str, Any] | None = None
    try:
        async with runtime.call_slot(runner):
            summary = await runner.run()
        if summary is not None and runner.call_id is not None and plans:
            _report(runtime, services, runner, carrier, plans[0], summary)
    finally:
        recording = plans[0].recording if plans else None
        if recording is not None:
            if summary is not None:
                await recording.finish(summary, runner.bridge.transcript())
            else:
                await recording.abort()
        structlog.contextvars.clear_contextvars()


def _report(
    runtime: GatewayRuntime,
    services: GatewayServices,
    runner: CallRunner,
    carrier: str,
    plan: CallPlan,
    summary: dict[str, Any],
) -> None:
    profile = services.agents.get(plan.profile)
    summary["profile"] = plan.profile
    if profile is not None:
        cost = services.estimate_cost(profile, summary)
        if cost is not None:
            summary["cost"] = cost
    record = CallRecord(
        carrier,
        runner.call_id or "",
        summary,
        runner.bridge.transcript(),
        {"uplink": runner.uplink_ms, "downlink": runner.downlink_ms, "clear": runner.clear_ms},
        profile=plan.profile,
    )
    runtime.call_ended(record)

"""Running one carrier media stream as a call: the part every carrier's media route shares.

A carrier's WebSocket route checks what is carrier-specific (the upgrade's signature), accepts
the socket and hands it here with the carrier's translator and call control. `run_media_stream`
runs it as a `MediaStream`: it awaits the stream's `start`, authorizes it (its token names the
agent profile the webhook chose: that profile's bridge options, Live setup, tools and recording
make the call's `CallPlan`, resolved here), then builds the call's runner from the plan. It
holds a call slot in the runtime throughout (so drain and metrics see it), and reports the
finished call: its summary (with the estimated cost when prices are configured), its recording
and transcript files when the profile asked for them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import structlog
from starlette.websockets import WebSocket

from gateway.carriers.base import CarrierTranslator
from gateway.carriers.control import CallControl
from gateway.carriers.messages import MAX_ID_CHARS
from gateway.core.events import CallStarted
from gateway.shell.call_plan import CallPlan
from gateway.shell.call_recording import CallRecording
from gateway.shell.call_runner import CallRunner, RunnerOptions
from gateway.shell.live_client import LiveSession
from gateway.shell.media_stream import MediaStream
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

    def authorize(started: CallStarted) -> str | CallPlan:
        if max(len(started.call_id), len(started.stream_id)) > MAX_ID_CHARS:
            runtime.counters.stream_rejected()
            return "call id too long"  # no webhook answered such a call: no token either
        grant = runtime.grant(started)
        if isinstance(grant, str):
            return grant
        profile = grant.profile
        structlog.contextvars.bind_contextvars(direction=grant.direction)
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

        options = services.bridge_options(profile)
        if grant.outbound is not None:  # the callee speaks first (gateway.core.answering)
            options = replace(options, outbound=grant.outbound, greeting_text=None)
        return CallPlan(
            profile=profile.name,
            bridge_options=options,
            services=services.for_call(carrier, control, grant),
            claim_session=claim,
            recording=recording,
            direction=grant.direction,
        )

    stream = MediaStream(
        ws,
        translator,
        authorize=authorize,
        opening_options=services.bridge_options(),
        options=RunnerOptions(),
    )
    summary: dict[str, Any] | None = None
    try:
        async with runtime.call_slot(stream):
            summary = await stream.run()
        runner, plan = stream.runner, stream.plan
        if summary is not None and runner is not None and plan is not None:
            _report(runtime, services, runner, carrier, plan, summary)
    finally:
        recording = stream.plan.recording if stream.plan is not None else None
        if recording is not None:
            if summary is not None and stream.runner is not None:
                await recording.finish(summary, stream.runner.bridge.transcript())
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
    summary["direction"] = plan.direction
    if plan.direction == "outbound" and runner.call_id:
        answering = runner.bridge.call.answering
        opening = answering.summary() if answering is not None else None
        outbound = runtime.reception.outbound.stream_ended(runner.call_id, opening)
        if outbound is not None:
            summary["outbound"] = outbound
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

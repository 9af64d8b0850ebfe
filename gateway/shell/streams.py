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

import asyncio
import contextlib
import time
from dataclasses import replace
from typing import Any

import structlog
from starlette.websockets import WebSocket

from gateway.carriers.base import CarrierTranslator
from gateway.carriers.control import CallControl
from gateway.carriers.messages import MAX_ID_CHARS
from gateway.cluster.node import CallKeeper, Cluster
from gateway.core.carry_on import CallSnapshot, ended_on_purpose
from gateway.core.events import CallStarted
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER, token_id
from gateway.log import get_logger
from gateway.shell.call_legs import CallLeg
from gateway.shell.call_plan import CallPlan
from gateway.shell.call_recording import CallRecording
from gateway.shell.call_runner import CallRunner, RunnerOptions
from gateway.shell.carry_on import resuming_claim
from gateway.shell.live_client import LiveSession
from gateway.shell.media_stream import MediaStream
from gateway.shell.runtime import CallRecord, GatewayRuntime, StreamGrant
from gateway.shell.services import GatewayServices

__all__ = ["run_media_stream"]

_log = get_logger(component="cluster")


async def run_media_stream(
    ws: WebSocket,
    runtime: GatewayRuntime,
    translator: CarrierTranslator,
    *,
    control: CallControl | None = None,
    media_message_ms: int = 20,
) -> None:
    """Run an accepted media stream to its end (never raises for bad input);
    `media_message_ms`: the carrier's largest outbound media message (its plug-in's)."""
    services: GatewayServices = ws.app.state.services
    carrier = translator.carrier

    before: list[CallSnapshot | None] = [None]
    """Cluster mode: the snapshot of the call's earlier legs (None: its first stream)."""

    def check(started: CallStarted) -> str | StreamGrant:
        if max(len(started.call_id), len(started.stream_id)) > MAX_ID_CHARS:
            runtime.counters.stream_rejected()
            return "call id too long"  # no webhook answered such a call: no token either
        return runtime.grant(started)

    def plan_for(started: CallStarted, grant: StreamGrant) -> CallPlan:
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
        options = services.bridge_options(profile)
        carried = before[0]

        async def claim(call_id: str) -> LiveSession:
            if carried is not None:
                return await resuming_claim(runtime.connector, live, carried)
            return await runtime.claim_session(call_id, live)

        if carried is not None:  # the agent greeted the caller on an earlier leg
            options = replace(options, greeting_text=None)
        if grant.outbound is not None:  # the callee speaks first (gateway.core.answering)
            options = replace(options, outbound=grant.outbound, greeting_text=None)
        return CallPlan(
            profile=profile.name,
            bridge_options=replace(options, media_message_ms=media_message_ms),
            services=services.for_call(carrier, control, grant),
            claim_session=claim,
            recording=recording,
            from_number=grant.from_number,
            to_number=grant.to_number,
            direction=grant.direction,
        )

    def authorize(started: CallStarted) -> str | CallPlan:
        grant = check(started)
        return grant if isinstance(grant, str) else plan_for(started, grant)

    async def authorize_in_cluster(started: CallStarted, cluster: Cluster) -> str | CallPlan:
        """The local checks, then the token claimed once across the cluster (Redis unavailable:
        the local check alone, so an admitted call still gets its agent), the call's slot
        taken here and its earlier legs' snapshot read (a call carried on: no greeting, its
        Live session resumed)."""
        share = runtime.dial_share
        outbound = share is not None and await share.pull_call(started.call_id) is not None
        grant = check(started)
        if isinstance(grant, str):
            return grant
        if outbound and share is not None:  # bridged: GET /calls/{id} says so on any replica
            await share.push_call(started.call_id)
        named = token_id(started.custom_parameters.get(STREAM_TOKEN_PARAMETER))
        claimed = None if named is None else await cluster.claim_token(*named)
        if claimed is False:
            runtime.counters.stream_rejected()
            return "token reused"
        if claimed is None:  # Redis died since the webhook: the local single-use check holds
            _log.warning("cluster.token_checked_locally", reason="redis unavailable")
        carried = before[0] = await cluster.stream_started(started.call_id)
        if carried is not None:
            cluster.carried_on += 1
            _log.info("cluster.carrying_on", legs=carried.legs + 1, resume=bool(carried.handle))
            # one document per call: the earlier leg's (if any waits) is withdrawn
            await services.call_carried_on(carrier, started.call_id, carried.legs + 1)
        return plan_for(started, grant)

    cluster = runtime.cluster

    def choose(started: CallStarted) -> Any:
        if cluster is None:
            return authorize(started)
        return authorize_in_cluster(started, cluster)

    stream = MediaStream(
        ws,
        translator,
        authorize=choose,
        opening_options=services.bridge_options(),
        options=RunnerOptions(),
    )
    summary: dict[str, Any] | None = None
    keeping: asyncio.Task[None] | None = None
    keeper: list[CallKeeper] = []
    try:
        async with runtime.call_slot(stream):
            if cluster is not None:
                keeping = asyncio.create_task(_keep(runtime, cluster, stream, before, keeper))
            summary = await stream.run()
        runner, plan = stream.runner, stream.plan
        if summary is not None and runner is not None and plan is not None:
            outbound = plan.direction == "outbound" and runner.call_id
            share = runtime.dial_share if outbound else None
            if share is not None:  # what other replicas heard of it (its verdict)
                await share.pull_call(runner.call_id or "")
            record = _report(runtime, services, runner, carrier, plan, summary)
            if share is not None:
                await share.push_call(runner.call_id or "")
            await services.post_call(
                record,
                plan,
                stream_id=runner.bridge.stream_id,
                leg=None if cluster is None else CallLeg(before[0], runner.end_reason),
            )
    finally:
        if keeping is not None:
            keeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeping
            runtime.keepers.pop(stream, None)
            if cluster is not None and keeper:
                await _finish_keeping(cluster, keeper[0])
        recording = stream.plan.recording if stream.plan is not None else None
        if recording is not None:
            if summary is not None and stream.runner is not None:
                await recording.finish(summary, stream.runner.bridge.transcript())
                if recording.report is not None and carrier == "browser":
                    ws.app.state.phone_reports.last = recording.report  # the softphone's link
            else:
                await recording.abort()
        structlog.contextvars.clear_contextvars()


async def _keep(
    runtime: GatewayRuntime,
    cluster: Cluster,
    stream: MediaStream,
    before: list[CallSnapshot | None],
    out: list[CallKeeper],
) -> None:
    """Cluster mode: once the stream is a call, keep its state in Redis until it ends."""
    await stream.became_call.wait()
    runner, plan, started = stream.runner, stream.plan, stream.started
    assert runner is not None
    assert plan is not None
    assert started is not None
    call_id = started.call_id
    started_s = asyncio.get_running_loop().time()
    started_at_s = time.time()

    def audio_ms() -> float:
        return (asyncio.get_running_loop().time() - started_s) * 1000

    keeper = CallKeeper(
        cluster,
        call_id,
        runner,
        profile=plan.profile,
        before=before[0],
        audio_ms=audio_ms,
        started_at_s=started_at_s,
    )
    out.append(keeper)
    runtime.keepers[stream] = keeper
    await keeper.run()


async def _finish_keeping(cluster: Cluster, keeper: CallKeeper) -> None:
    """The stream ended here: its state marked (ended, or left to carry on), its slot given
    back when the call is over (else the next replica takes it, or its lease ends)."""
    await keeper.finish()
    if keeper.call.end_reason not in (None, "handover") and ended_on_purpose(
        keeper.call.end_reason
    ):
        await cluster.call_ended(keeper.call_id)
    else:
        cluster.slots.held.discard(keeper.call_id)


def _report(
    runtime: GatewayRuntime,
    services: GatewayServices,
    runner: CallRunner,
    carrier: str,
    plan: CallPlan,
    summary: dict[str, Any],
) -> CallRecord:
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
    return record

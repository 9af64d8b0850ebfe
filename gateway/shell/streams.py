"""Running one carrier media stream as a call: the part every carrier's media route shares.

A carrier's WebSocket route checks what is carrier-specific (the upgrade's signature), accepts
the socket and hands it here with the carrier's translator and call control. `run_media_stream`
builds the call's bridge and runner, holds a call slot in the runtime while it runs (so drain and
metrics see it), and reports the finished call.
"""

from __future__ import annotations

import structlog
from starlette.websockets import WebSocket

from gateway.carriers.base import CarrierTranslator
from gateway.carriers.control import CallControl
from gateway.core.bridge import CallBridge
from gateway.shell.call_runner import CallRunner, RunnerOptions
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
    server = runtime.settings.server
    services: GatewayServices = ws.app.state.services
    runner = CallRunner(
        ws,
        translator,
        CallBridge(services.bridge_options()),
        authorize=runtime.authorize,
        claim_session=runtime.claim_session,
        options=RunnerOptions(start_timeout_s=server.stream_start_timeout_s),
        services=services.for_call(translator.carrier, control),
    )
    try:
        async with runtime.call_slot(runner):
            summary = await runner.run()
        if summary is not None and runner.call_id is not None:
            record = CallRecord(
                translator.carrier,
                runner.call_id,
                summary,
                runner.bridge.transcript(),
                {
                    "uplink": runner.uplink_ms,
                    "downlink": runner.downlink_ms,
                    "clear": runner.clear_ms,
                },
            )
            runtime.call_ended(record)
    finally:
        structlog.contextvars.clear_contextvars()

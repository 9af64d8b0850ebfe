"""Cluster mode's way back in: the Live session of a call carried on from another replica.

`carry_on_answer` decides what the carrier's stream-ended request (Twilio's `<Connect action>`)
gets. `resuming_claim` opens the first session of a call's new leg: it resumes the newest handle its
earlier legs stored, and when Live refuses that handle (expired, or from another model) it opens
a fresh session told the conversation so far. The agent does not greet the caller again (the
stream's plan has no greeting: `gateway.shell.streams`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from gateway.cluster.link import ClusterUnavailableError
from gateway.core.call import conversation_context
from gateway.core.carry_on import CallSnapshot, Finish, Reconnect, after_stream
from gateway.live.closes import CloseKind
from gateway.live.setup import LiveConfig
from gateway.log import get_logger
from gateway.shell.connector import LiveConnector
from gateway.shell.live_client import LiveConnectError, LiveSession

__all__ = ["STREAM_ENDED_PATH", "carry_on_answer", "resuming_claim"]

STREAM_ENDED_PATH: Final = "stream-ended"
"""`/<carrier>/stream-ended`: the URL the carrier requests when a call's stream ends."""

if TYPE_CHECKING:
    from gateway.shell.runtime import GatewayRuntime

_log = get_logger(component="cluster")


async def carry_on_answer(runtime: GatewayRuntime, call_id: str) -> Reconnect | Finish:
    """What the carrier's stream-ended request for `call_id` gets: a new stream when the call
    did not end on purpose (its state in Redis says), else the end. Without cluster mode, or
    with Redis unavailable, the end (nothing is known of the call)."""
    cluster = runtime.cluster
    if cluster is None:
        return Finish("not in cluster mode")
    if runtime.draining:
        _log.info("cluster.stream_ended_while_draining")  # still answered: any replica may
    try:
        stored = await cluster.store.load(call_id)
    except ClusterUnavailableError:
        return Finish("cluster unavailable")
    return after_stream(stored)


async def resuming_claim(
    connector: LiveConnector, config: LiveConfig, carried: CallSnapshot
) -> LiveSession:
    """The call's session: resumed with `carried.handle`, else fresh with its conversation."""
    if carried.handle:
        try:
            session = await connector.open(config=config, resume_handle=carried.handle)
        except LiveConnectError as exc:
            if exc.close.kind is not CloseKind.FATAL_CONFIG:
                raise
            _log.warning("cluster.handle_refused", code=exc.close.code)
        else:
            _log.info("cluster.resumed", handle_resumed=True)
            return session
    context = conversation_context(list(carried.transcript))
    _log.info("cluster.resumed", handle_resumed=False, lines=len(carried.transcript))
    return await connector.open(config=config, context=context)

"""The gateway's dial-out API: `POST /calls`, `GET /calls/{id}`, and the dial callbacks.

* `POST /calls` (bearer GATEWAY_API_KEY): the JSON body checked (`gateway.outbound.request`:
  E.164 numbers, the GATEWAY_DIAL_ALLOWED_PREFIXES allowlist, the profile's placeholders),
  admission asked (a dial-out is a call like any other), the carrier's `Dialer` request sent;
  201 with the dial-out's id once the carrier accepted the call. The carrier then requests the
  answer webhook (`/<carrier>/voice`), which answers as for an inbound call: the same stream
  token, bridge, tools, recordings and metrics, with the request's agent (its variables filled)
  and `direction=outbound`.
* `GET /calls/{id}`: the dial-out's status (`gateway.outbound.status`).
* `POST /<carrier>/dial-status`, `POST /<carrier>/dial-machine`: the carrier's progress and
  machine-detection callbacks, signed and checked like its other webhooks. A machine with
  `hang_up` ends the call through the carrier's REST call control.

Cluster mode (docs/outbound.md): `POST /calls` takes a cluster-wide slot for the dial-out while
it rings (`ClusterSlots.reserve_ringing`), every route reads and writes the dial-out's shared
record (`gateway.shell.dial_share`), and a verdict for a call another replica runs is passed on.

Without GATEWAY_API_KEY the two `/calls` routes answer 404. Errors are JSON (`{"error": …}`),
never echoing a key, a token or a variable's value.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Final
from urllib.parse import urlencode

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.agents.profile import AgentProfile
from gateway.carriers import registry
from gateway.carriers.dial import Dialer, MachineDetection, PlaceCall, PlaceFailed
from gateway.carriers.plugin import CarrierPlugin, ControlContext
from gateway.cluster.link import ClusterUnavailableError
from gateway.core.admission import ClusterSlot, Refuse, decide
from gateway.core.answering import OutboundPolicy
from gateway.core.events import AnswererDetected, HangUp
from gateway.log import get_logger
from gateway.outbound.request import DialOrder, DialPolicy, Problem, read_order
from gateway.outbound.status import DialOut, MachineMove, machine_move
from gateway.outbound.template import fill, placeholders
from gateway.shell.carrier_routes import checked_webhook
from gateway.shell.dial_outs import DialOuts
from gateway.shell.dial_share import DialShare
from gateway.shell.media_stream import MediaStream
from gateway.shell.runtime import GatewayRuntime
from gateway.shell.services import GatewayServices
from gateway.shell.webhooks import base_url, read_body, reject, runtime_of

__all__ = ["deliver_verdict", "dial_routes", "dialers", "outbound_profile", "rebuild_agent"]

_log = get_logger(component="dial")
MAX_BODY_BYTES: Final = 16 * 1024
PLACE_TIMEOUT_S: Final = 10.0
RING_SLOT_MARGIN_S: Final = 60
"""Cluster mode: a ringing dial-out's slot lease is its ring timeout plus this (the answer
webhook takes it over before; a dial-out whose callbacks are lost gives it back by then)."""


def _error(status: int, reason: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(Problem(status, reason, field).body(), status_code=status)


def dialers(runtime: GatewayRuntime) -> dict[str, Dialer]:
    """The carriers that can dial now (their credentials set), by name."""
    found: dict[str, Dialer] = {}
    context = ControlContext(None, clock_s=time.time, new_id=lambda: str(uuid.uuid4()))
    for plugin in registry.carriers():
        try:
            dialer = plugin.dialer(runtime.settings.carrier(plugin.name), context)
        except ValueError as exc:
            _log.warning("dial.unavailable", carrier=plugin.name, reason=str(exc))
            continue
        if dialer is not None:
            found[plugin.name] = dialer
    return found


def outbound_policy(
    profile: AgentProfile, variables: dict[str, str], detection: MachineDetection
) -> OutboundPolicy:
    """How the placed call opens: who speaks first, what a machine gets."""
    voicemail = None
    if detection is MachineDetection.LEAVE_VOICEMAIL and profile.voicemail_message:
        voicemail = fill(profile.voicemail_message, variables)
    return OutboundPolicy(
        greeting_text=fill(profile.greeting_prompt, variables),
        hello_timeout_ms=profile.hello_timeout_ms,
        screening=detection is not MachineDetection.OFF,
        machine_hang_up=detection is MachineDetection.HANG_UP,
        voicemail_text=voicemail,
    )


def outbound_profile(profile: AgentProfile, variables: dict[str, str]) -> AgentProfile:
    """The profile with the call's variables in its texts. The callee speaks first on an
    outbound call ("Hello?"): the agent answers that instead of greeting into it."""
    live = profile.live
    instructions = fill(live.instructions, variables) if live.instructions else None
    return replace(
        profile,
        live=replace(live, instructions=instructions),
        greeting_prompt=fill(profile.greeting_prompt, variables),
        speaks_first=False,
    )


def rebuild_agent(
    agents: Any, dial: DialOut, variables: dict[str, str]
) -> tuple[AgentProfile, OutboundPolicy] | None:
    """Cluster mode: the agent and opening of a dial-out another replica placed, from its
    profile's name and its variables (None: this replica has no such profile)."""
    profile = agents.get(dial.profile)
    if profile is None:
        _log.warning("dial.unknown_profile", dial_id=dial.id, profile=dial.profile)
        return None
    filled = outbound_profile(profile, variables)
    return filled, outbound_policy(profile, variables, dial.machine_detection)


def _share(request: Request) -> DialShare | None:
    share: DialShare | None = getattr(request.app.state, "dial_share", None)
    return share


def _authorized(request: Request, runtime: GatewayRuntime) -> Response | None:
    """None when the bearer key holds; the 404 (API off) or 401 to answer otherwise."""
    key = runtime.settings.dial.api_key
    if key is None:
        return _error(404, "not found")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.encode(), key.encode()):
        _log.warning("api.unauthorized", path=request.url.path, scheme=scheme[:16] or None)
        response = _error(401, "missing or wrong API key")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    return None


def _policy(runtime: GatewayRuntime, carriers: list[str]) -> DialPolicy:
    agents = runtime.agents
    profiles = {
        name: placeholders([p.live.instructions, p.greeting_prompt, p.voicemail_message])
        for name, p in agents.profiles.items()
    }
    settings = runtime.settings.dial
    return DialPolicy(
        allowed_prefixes=settings.allowed_prefixes,
        carriers=tuple(carriers),
        default_carrier=settings.default_carrier,
        profiles=profiles,
        default_profile=agents.default,
    )


async def _place(
    http: httpx.AsyncClient, dialer: Dialer, call: PlaceCall
) -> tuple[str | None, PlaceFailed | None]:
    try:
        request = dialer.place(call)
    except ValueError as exc:
        return None, PlaceFailed(str(exc), 422)
    headers = dict(request.headers)
    content: bytes | None = None
    if request.form is not None:  # in order, a name may repeat
        content = urlencode(request.form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif request.json is not None:
        content = json.dumps(dict(request.json)).encode()
        headers["Content-Type"] = "application/json"
    try:
        response = await http.request(
            request.method, request.url, headers=headers, content=content, timeout=PLACE_TIMEOUT_S
        )
    except httpx.HTTPError as exc:
        return None, PlaceFailed(f"{dialer.carrier} unreachable ({type(exc).__name__})", 502)
    answer = dialer.placed(response.status_code, response.content)
    _log.info(
        "dial.request",
        carrier=dialer.carrier,
        what=request.description,
        status=response.status_code,
        ok=not isinstance(answer, PlaceFailed),
    )
    if isinstance(answer, PlaceFailed):
        return None, answer
    return answer.call_id, None


async def create_call(request: Request) -> Response:
    runtime = runtime_of(request)
    refused = _authorized(request, runtime)
    if refused is not None:
        return refused
    body = await read_body(request, MAX_BODY_BYTES)
    if body is None:
        return _error(413, "request too large")
    try:
        parsed = json.loads(body)
    except ValueError:
        return _error(400, "the body must be JSON")
    available = dialers(runtime)
    order = read_order(parsed, _policy(runtime, sorted(available)))
    if isinstance(order, Problem):
        _log.warning("dial.refused", reason=order.reason, field=order.field)
        return JSONResponse(order.body(), status_code=order.status)
    admission = runtime.admission()
    if admission is not None:
        _log.warning("dial.refused", reason=admission.reason)
        return _error(503, f"not taking calls now ({admission.reason})")
    dial_id = "dial_" + secrets.token_hex(12)
    cluster = runtime.cluster
    if cluster is None:
        return await _dial(request, runtime, order, available[order.carrier], dial_id)
    lease_ms = (order.ring_timeout_s + RING_SLOT_MARGIN_S) * 1000
    reserved = await cluster.slots.reserve_ringing(dial_id, cluster.max_calls, lease_ms)
    decision = decide(runtime.current_load(), (ClusterSlot(reserved),))
    if isinstance(decision, Refuse):
        runtime.counters.call_refused(decision.reason)
        _log.warning("dial.refused", reason=decision.reason)
        return _error(503, f"not taking calls now ({decision.reason})")
    try:
        response = await _dial(request, runtime, order, available[order.carrier], dial_id)
        placed = request.app.state.dial_outs.get(dial_id)
        if response.status_code == 201 and placed is not None and placed.call_id:
            # the slot now goes by the id the answer webhook carries
            await cluster.slots.reserve_ringing(placed.call_id, None, lease_ms)
    finally:
        await cluster.slots.release_ringing(dial_id)
    return response


async def _dial(
    request: Request, runtime: GatewayRuntime, order: DialOrder, dialer: Dialer, dial_id: str
) -> Response:
    dials: DialOuts = request.app.state.dial_outs
    services: GatewayServices = request.app.state.services
    profile = runtime.agents.get(order.profile)
    assert profile is not None  # read_order checked it
    voicemail = order.machine_detection is MachineDetection.LEAVE_VOICEMAIL
    if voicemail and not profile.voicemail_message:
        reason = f"profile {order.profile} has no voicemail_message to leave"
        return _error(422, reason, "machine_detection")
    if voicemail and not dialer.detects_greeting_end:
        reason = f"{order.carrier}'s machine detection cannot tell when a greeting ends"
        return _error(422, reason, "machine_detection")
    try:
        base = base_url(request, runtime)
    except ValueError:
        return _error(400, "no host: set GATEWAY_PUBLIC_URL")
    carrier = order.carrier
    call = PlaceCall(
        to_number=order.to_number,
        from_number=order.from_number,
        answer_url=f"{base}/{carrier}/voice",
        status_url=f"{base}/{carrier}/dial-status?dial={dial_id}",
        machine_url=f"{base}/{carrier}/dial-machine?dial={dial_id}",
        machine_detection=order.machine_detection,
        ring_timeout_s=order.ring_timeout_s,
    )
    dial = DialOut(
        dial_id,
        carrier,
        order.to_number,
        order.from_number,
        order.profile,
        order.machine_detection,
        created_ms=dials.now_ms(),
    )
    variables = dict(order.variables)
    filled = outbound_profile(profile, variables)
    policy = outbound_policy(profile, variables, order.machine_detection)
    call_id, failed = await _place(services.control_http, dialer, call)
    if failed is not None:
        _log.warning("dial.failed", dial_id=dial_id, carrier=carrier, reason=failed.reason)
        return _error(failed.status, failed.reason)
    assert call_id is not None
    dial = dial.placed(call_id)
    dials.add(dial, filled, policy, variables)
    share = _share(request)
    if share is not None:
        await share.push(dial_id)
    _log.info(
        "dial.placed",
        dial_id=dial_id,
        call_sid=call_id,
        carrier=carrier,
        profile=order.profile,
        machine_detection=order.machine_detection.value,
        direction="outbound",
    )
    return JSONResponse({"id": dial_id, **dial.to_json()}, status_code=201)


async def get_call(request: Request) -> Response:
    runtime = runtime_of(request)
    refused = _authorized(request, runtime)
    if refused is not None:
        return refused
    dials: DialOuts = request.app.state.dial_outs
    share = _share(request)
    dial_id = request.path_params["dial_id"]
    dial = dials.get(dial_id) if share is None else await share.pull(dial_id)
    if dial is None:
        return _error(404, "no such call")
    return JSONResponse(dial.to_json())


def _progress_route(
    plugin: CarrierPlugin[Any], dialer_of: Callable[[GatewayRuntime], Dialer | None]
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        runtime = runtime_of(request)
        checked = await checked_webhook(request, runtime, plugin)
        if isinstance(checked, Response):
            return checked
        dialer = dialer_of(runtime)
        progress = dialer.progress(checked) if dialer is not None else None
        if progress is None:
            return reject(runtime, request.url.path, "no call id", 400, "call id missing")
        dials: DialOuts = request.app.state.dial_outs
        wanted = dict(checked.query).get("dial")
        share = _share(request)
        if share is not None:  # another replica may have placed it, or moved it since
            await (share.pull(wanted) if wanted else share.pull_call(progress.call_id))
        dial = dials.by_call(progress.call_id)
        if dial is None and wanted is not None and share is not None:
            dial = dials.get(wanted)  # a leg id not mapped yet (Plivo)
        if dial is None or (wanted is not None and wanted != dial.id):
            _log.info("dial.unknown_callback", call_sid=progress.call_id)
            return Response(status_code=204)
        before = dial
        after = dials.progressed(dial, progress)
        if share is not None:
            await share.push(after.id)
            if after.ended and not before.ended and runtime.cluster is not None:
                ids = [i for i in (after.carrier_call_id, after.leg_id) if i]
                await runtime.cluster.slots.release_ringing(*ids)  # if no call took it
        if progress.answered_by is not None and after.call_id is not None:
            detected = AnswererDetected(progress.answered_by.value, progress.greeting_ended)
            if _deliver(runtime, after.call_id, detected):
                return Response(status_code=204)  # the call's bridge decides (core.answering)
            if await _pass_on(runtime, share, after.call_id, detected):
                return Response(status_code=204)  # its bridge, on the replica running it
        if machine_move(before, after) is MachineMove.HANG_UP:
            await _hang_up(request, runtime, plugin, after)
            if share is not None:
                await share.push(after.id)
        return Response(status_code=204)

    return endpoint


async def _pass_on(
    runtime: GatewayRuntime, share: DialShare | None, call_id: str, event: AnswererDetected
) -> bool:
    """Cluster mode: publish the verdict when another replica runs the call (its owner lease
    says so); False when none does or Redis is unavailable."""
    cluster = runtime.cluster
    if share is None or cluster is None:
        return False
    try:
        owner = await cluster.store.owner(call_id)
    except ClusterUnavailableError:
        return False
    if owner is None or owner == cluster.replica:
        return False
    verdict = {"answered_by": event.answered_by, "greeting_ended": event.greeting_ended}
    passed = await share.store.publish_verdict(call_id, verdict)
    _log.info("dial.verdict_passed_on", call_sid=call_id, passed=passed)
    return passed


def deliver_verdict(runtime: GatewayRuntime, call_id: str, verdict: dict[str, Any]) -> None:
    """Cluster mode: a verdict another replica published; delivered when the call runs here."""
    answered_by = verdict.get("answered_by")
    if not isinstance(answered_by, str):
        return
    event = AnswererDetected(answered_by, bool(verdict.get("greeting_ended")))
    if _deliver(runtime, call_id, event):
        _log.info("dial.verdict_delivered", call_sid=call_id, answered_by=answered_by)


def _deliver(runtime: GatewayRuntime, call_id: str, event: AnswererDetected) -> bool:
    """Hand the running call `call_id` the verdict; False when it is not running here."""
    for call in list(runtime.calls):
        if isinstance(call, MediaStream) and call.call_id == call_id:
            return call.deliver(event)
    return False


async def _hang_up(
    request: Request, runtime: GatewayRuntime, plugin: CarrierPlugin[Any], dial: DialOut
) -> None:
    """A machine answered a `hang_up` dial-out whose stream is not running here: end the call
    through the carrier's REST API."""
    dials: DialOuts = request.app.state.dial_outs
    services: GatewayServices = request.app.state.services
    dials.update(replace(dial, hung_up_on_machine=True))
    try:
        base: str | None = base_url(request, runtime)
    except ValueError:
        base = None
    context = ControlContext(base, clock_s=time.time, new_id=lambda: str(uuid.uuid4()))
    try:
        control = plugin.control(runtime.settings.carrier(plugin.name), context)
    except ValueError:
        control = None
    call_id = dial.call_id
    if control is None or call_id is None:
        _log.warning("dial.machine_hang_up_unavailable", dial_id=dial.id)
        return
    _log.info("dial.machine_hang_up", dial_id=dial.id, call_sid=call_id)
    result = await services.control_client.perform(control, call_id, HangUp())
    if not result.ok:
        _log.warning("dial.machine_hang_up_failed", dial_id=dial.id)


def dial_routes() -> list[BaseRoute]:
    """`/calls`, `/calls/{id}`, and each carrier's dial callbacks (every registered carrier
    that can dial; the routes answer only once its credentials are set)."""
    routes: list[BaseRoute] = [
        Route("/calls", create_call, methods=["POST"]),
        Route("/calls/{dial_id}", get_call, methods=["GET"]),
    ]
    for plugin in registry.carriers():
        if type(plugin).dialer is CarrierPlugin.dialer:
            continue  # it cannot dial at all

        def dialer_of(
            runtime: GatewayRuntime, plugin: CarrierPlugin[Any] = plugin
        ) -> Dialer | None:
            return dialers(runtime).get(plugin.name)

        endpoint = _progress_route(plugin, dialer_of)
        for path in ("dial-status", "dial-machine"):
            routes.append(Route(f"/{plugin.name}/{path}", endpoint, methods=["POST"]))
    return routes

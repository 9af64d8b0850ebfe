"""The simulator as the callee of a dial-out: a fake carrier REST API that rings, answers, plays.

`FakeCarrierApi` serves the Calls API of a Twilio-compatible carrier (Twilio, and SignalWire's
LaML under `/api/laml`; Telnyx's TeXML Calls API and Call Control hang-up under `/v2`): the
gateway's `POST /calls` places a call there (point `TWILIO_API_BASE`, `SIGNALWIRE_SPACE_URL`
or `TELNYX_API_BASE` at it). For each create request it answers 201 with a
new call sid, then plays the callee that `plan(to_number)` describes, as the carrier would:

* `person` or `machine`: a signed `ringing` callback, then the answer webhook (the request's
  `Url`, signed, `Direction=outbound-api`) and the media stream, playing the plan's recording
  (a "Hello?", or a voicemail greeting and its beep) with the simulator (`place_call`). When
  detection was asked, the verdict goes to the asynchronous AMD callback at the plan's
  `verdict_ms` (`human`, or `machine_end_beep` for a machine). A REST hang-up
  (`Status=completed` on the call) ends the stream like the carrier would. The `completed`
  callback follows the stream's end.
* `busy`, `no_answer`: `ringing`, then the callback that says so; nothing is bridged.

What the callee heard is its `CallReport` (`calls[sid].report`). Every request received is
kept (`calls[sid].request`, `updates`), credentials checked as HTTP Basic.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qs, parse_qsl, urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.carriers.twilio.signature import compute_signature
from gateway.sim.call import place_call
from gateway.sim.dialect import CarrierDialect
from gateway.sim.report import CallReport
from gateway.sim.script import CallScript, SimOptions
from gateway.sim.twilio import TwilioDialect

__all__ = ["CalleeCall", "CalleePlan", "FakeCarrierApi"]

Answer = Literal["person", "machine", "busy", "no_answer"]
Signer = Callable[[str, dict[str, str], bytes, str], list[tuple[str, str]]]
"""(url, form, body, secret) -> the headers that sign a callback."""


@dataclass(frozen=True)
class CalleePlan:
    answer: Answer
    script: CallScript | None = None
    """What the callee plays once answered (person, machine)."""
    verdict_ms: float | None = None
    """When machine detection (if asked) reports its verdict, in ms from the answer: after a
    person's first words, after a machine's beep (Twilio's `machine_end_beep` comes once the
    beep is over)."""
    ring_s: float = 0.2


_VONAGE_STATUS = {
    "ringing": "ringing",
    "in-progress": "answered",
    "busy": "busy",
    "no-answer": "timeout",
    "completed": "completed",
}
_FIELDS = {
    "twilio": {
        "ring": "StatusCallback",
        "status": "StatusCallback",
        "amd": "AsyncAmdStatusCallback",
        "answer": "Url",
        "to": "To",
        "from": "From",
    },
    "plivo": {
        "ring": "ring_url",
        "status": "hangup_url",
        "amd": "machine_detection_url",
        "answer": "answer_url",
        "to": "to",
        "from": "from",
    },
    "vonage": {
        "ring": "event_url",
        "status": "event_url",
        "amd": "-",
        "answer": "answer_url",
        "to": "to",
        "from": "from",
    },
}
"""Where each flavour's create request names the callee's URLs and numbers."""


@dataclass
class CalleeCall:
    sid: str
    """The call's id in its webhooks and stream (Twilio's `CallSid`, Plivo's `CallUUID`)."""
    request: dict[str, list[str]]
    plan: CalleePlan
    request_id: str = ""
    """What the create request was answered with when it differs (Plivo's `request_uuid`)."""
    flavour: str = "twilio"
    callbacks: list[tuple[str, dict[str, str], int]] = field(default_factory=list)
    """(url, form, HTTP status of the gateway's answer), in order."""
    updates: list[dict[str, list[str]]] = field(default_factory=list)
    report: CallReport | None = None
    hang_up: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def field(self, name: str) -> str | None:
        values = self.request.get(name)
        return values[0] if values else None


class FakeCarrierApi:
    """A Twilio-compatible carrier's REST API and its callees (one per test)."""

    def __init__(
        self,
        plan: Callable[[str], CalleePlan],
        *,
        account_sid: str,
        auth_token: str,
        signing_secret: str | None = None,
        dialect: Callable[[], CarrierDialect] = TwilioDialect,
        sign: Signer | None = None,
        speed: float = 1.0,
    ) -> None:
        """`auth_token`: the REST API's Basic password; `signing_secret`: what callbacks and
        webhooks are signed with (default: the auth token, as Twilio does)."""
        self._plan = plan
        self._account = account_sid
        self._token = auth_token
        self._secret = signing_secret or auth_token
        self._dialect = dialect
        self._sign = sign or _twilio_signature
        self._speed = speed
        self.calls: dict[str, CalleeCall] = {}
        self.refused: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()
        prefixes = ("", "/api/laml")
        routes = []
        for prefix in prefixes:
            base = f"{prefix}/2010-04-01/Accounts/{{account}}/Calls"
            routes += [
                Route(base + ".json", self._create, methods=["POST"]),
                Route(base + "/{sid}.json", self._update, methods=["POST"]),
            ]
        routes += [  # Vonage: the Voice API (create, hang-up)
            Route("/v1/calls", self._create_vonage, methods=["POST"]),
            Route("/v1/calls/{sid}", self._update_vonage, methods=["PUT"]),
        ]
        routes += [  # Plivo: the Call API (create, hang-up)
            Route("/v1/Account/{account}/Call/", self._create_plivo, methods=["POST"]),
            Route("/v1/Account/{account}/Call/{sid}/", self._delete_plivo, methods=["DELETE"]),
        ]
        routes += [  # Telnyx: the TeXML Calls API, Call Control's hang-up
            Route("/v2/texml/Accounts/{account}/Calls", self._create_texml, methods=["POST"]),
            Route("/v2/calls/{sid}/actions/{action}", self._call_action, methods=["POST"]),
        ]
        self.app = Starlette(routes=routes)

    def _authorized(self, request: Request) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        ok = scheme == "Basic" and user == self._account and password == self._token
        return ok and request.path_params["account"] == self._account

    async def _create(self, request: Request) -> Response:
        if not self._authorized(request):
            self.refused.append("credentials")
            return JSONResponse({"code": 20003, "message": "Authenticate"}, status_code=401)
        form = parse_qs((await request.body()).decode(), keep_blank_values=True)
        to_number = (form.get("To") or [""])[0]
        sid = "CA" + secrets.token_hex(16)
        call = CalleeCall(sid, form, self._plan(to_number))
        self.calls[sid] = call
        self._start(call)
        body = {"sid": sid, "status": "queued", "to": to_number, "direction": "outbound-api"}
        return JSONResponse(body, status_code=201)

    def _bearer(self, request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {self._token}"

    async def _create_texml(self, request: Request) -> Response:
        if not self._bearer(request) or request.path_params["account"] != self._account:
            self.refused.append("credentials")
            return JSONResponse({"errors": [{"code": "10009"}]}, status_code=401)
        parsed = json.loads(await request.body())
        form = {
            name: [json.dumps(value) if isinstance(value, bool) else str(value)]
            for name, value in parsed.items()
        }
        sid = "v3:" + secrets.token_urlsafe(24)
        self.calls[sid] = CalleeCall(sid, form, self._plan(form["To"][0]))
        self._start(self.calls[sid])
        to_number = form["To"][0]
        return JSONResponse(
            {"call_sid": sid, "from": form["From"][0], "to": to_number, "status": "queued"}
        )

    async def _call_action(self, request: Request) -> Response:
        if not self._bearer(request):
            return JSONResponse({"errors": [{"code": "10009"}]}, status_code=401)
        call = self.calls.get(request.path_params["sid"])
        if call is None:
            return JSONResponse({"errors": [{"code": "90018"}]}, status_code=422)
        call.updates.append({"action": [request.path_params["action"]]})
        if request.path_params["action"] in ("hangup", "transfer"):
            call.hang_up.set()
        return JSONResponse({"data": {"result": "ok"}})

    async def _create_plivo(self, request: Request) -> Response:
        if not self._authorized(request):
            self.refused.append("credentials")
            return JSONResponse({"error": "authentication failed"}, status_code=401)
        parsed = json.loads(await request.body())
        form = {name: [str(value)] for name, value in parsed.items()}
        request_id, sid = str(uuid.uuid4()), str(uuid.uuid4())
        call = CalleeCall(sid, form, self._plan(form["to"][0]), request_id, "plivo")
        self.calls[sid] = call
        self._start(call)
        answer = {"api_id": str(uuid.uuid4()), "message": "call fired", "request_uuid": request_id}
        return JSONResponse(answer, status_code=201)

    async def _create_vonage(self, request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            self.refused.append("credentials")
            return JSONResponse({"title": "Unauthorized"}, status_code=401)
        parsed = json.loads(await request.body())
        form = {
            "to": [parsed["to"][0]["number"]],
            "from": [parsed["from"]["number"]],
            "answer_url": [parsed["answer_url"][0]],
            "event_url": [parsed["event_url"][0]],
        }
        if "advanced_machine_detection" in parsed:
            form["advanced_machine_detection"] = [json.dumps(parsed["advanced_machine_detection"])]
        sid = str(uuid.uuid4())
        call = CalleeCall(sid, form, self._plan(form["to"][0]), sid, "vonage")
        self.calls[sid] = call
        self._start(call)
        answer = {"uuid": sid, "status": "started", "direction": "outbound"}
        return JSONResponse(answer, status_code=201)

    async def _update_vonage(self, request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse({"title": "Unauthorized"}, status_code=401)
        call = self.calls.get(request.path_params["sid"])
        if call is None:
            return JSONResponse({"title": "Not Found"}, status_code=404)
        action = json.loads(await request.body()).get("action", "")
        call.updates.append({"action": [action]})
        if action in ("hangup", "transfer"):
            call.hang_up.set()
        return Response(status_code=204)

    async def _delete_plivo(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"error": "authentication failed"}, status_code=401)
        call = self.calls.get(request.path_params["sid"])
        if call is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        call.updates.append({"method": ["DELETE"]})
        call.hang_up.set()
        return Response(status_code=204)

    def _start(self, call: CalleeCall) -> None:
        task = asyncio.create_task(self._run(call), name=f"callee {call.sid}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _update(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"code": 20003, "message": "Authenticate"}, status_code=401)
        call = self.calls.get(request.path_params["sid"])
        if call is None:
            return JSONResponse({"code": 20404, "message": "not found"}, status_code=404)
        form = parse_qs((await request.body()).decode(), keep_blank_values=True)
        call.updates.append(form)
        if form.get("Status") == ["completed"] or "Twiml" in form:
            call.hang_up.set()
        return JSONResponse({"sid": call.sid, "status": "in-progress"})

    async def _callback(
        self, http: httpx.AsyncClient, call: CalleeCall, url: str | None, **fields: str
    ) -> None:
        if not url:
            return
        if call.flavour == "vonage":
            event: dict[str, str] = {"uuid": call.sid, "conversation_uuid": "CON-" + call.sid}
            if "AnsweredBy" in fields:
                human = fields["AnsweredBy"] == "human"
                event |= {"status": "human"} if human else {"status": "machine"}
                if not human:
                    event["sub_state"] = "beep_start"
            else:
                event["status"] = _VONAGE_STATUS[fields["CallStatus"]]
            body = json.dumps(event).encode()
            headers = self._sign(url, event, body, self._secret)
            headers.append(("Content-Type", "application/json"))
            response = await http.post(url, content=body, headers=headers)
            call.callbacks.append((url, event, response.status_code))
            return
        if call.flavour == "plivo":
            if "AnsweredBy" in fields:
                fields = {"Machine": "false" if fields["AnsweredBy"] == "human" else "true"}
            form = {"RequestUUID": call.request_id, "CallUUID": call.sid, **fields}
        else:
            form = {"AccountSid": self._account, "CallSid": call.sid, **fields}
        body = urlencode(form).encode()
        headers = self._sign(url, form, body, self._secret)
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        response = await http.post(url, content=body, headers=headers)
        call.callbacks.append((url, form, response.status_code))

    async def _run(self, call: CalleeCall) -> None:
        try:
            async with httpx.AsyncClient(timeout=10.0) as http:
                await self._ring_and_answer(http, call)
        finally:
            call.done.set()

    async def _ring_and_answer(self, http: httpx.AsyncClient, call: CalleeCall) -> None:
        plivo = call.flavour == "plivo"
        names = _FIELDS[call.flavour]
        ring_url = call.field(names["ring"])
        status_url = call.field(names["status"])
        amd_url = call.field(names["amd"])
        if call.flavour == "vonage" and call.field("advanced_machine_detection"):
            amd_url = status_url
        plan = call.plan
        await self._callback(http, call, ring_url, CallStatus="ringing")
        await asyncio.sleep(plan.ring_s / self._speed)
        if plan.answer in ("busy", "no_answer"):
            status = "busy" if plan.answer == "busy" else "no-answer"
            await self._callback(http, call, status_url, CallStatus=status, CallDuration="0")
            return
        assert plan.script is not None
        if not plivo:  # Plivo requests the answer URL; it has no in-progress callback
            await self._callback(http, call, status_url, CallStatus="in-progress")
        answer_url = call.field(names["answer"]) or ""
        dialect = self._dialect()
        base = answer_url.removesuffix(getattr(dialect, "webhook_path", ""))
        options = SimOptions(
            account_sid=self._account,
            auth_token=self._secret,
            call_sid=call.sid,
            from_number=call.field(names["from"]) or "",
            to_number=call.field(names["to"]) or "",
            speed=self._speed,
            extra_webhook_fields=_EXTRA[call.flavour](call),
        )
        verdict = asyncio.create_task(self._verdict(http, call, amd_url))
        try:
            call.report = await place_call(
                base, plan.script, options, dialect=dialect, hang_up=call.hang_up
            )
        finally:
            verdict.cancel()
            await asyncio.gather(verdict, return_exceptions=True)
        await self._callback(http, call, status_url, CallStatus="completed", CallDuration="1")

    async def _verdict(self, http: httpx.AsyncClient, call: CalleeCall, url: str | None) -> None:
        """The asynchronous AMD verdict at the plan's time: `human` or `machine_end_beep`."""
        if url is None:
            return
        plan = call.plan
        await asyncio.sleep((plan.verdict_ms or 0.0) / 1000 / self._speed)
        verdict = "human" if plan.answer == "person" else "machine_end_beep"
        await self._callback(http, call, url, AnsweredBy=verdict)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


_EXTRA: dict[str, Callable[[CalleeCall], dict[str, str]]] = {
    "twilio": lambda call: {"Direction": "outbound-api", "CallStatus": "in-progress"},
    "plivo": lambda call: {"Direction": "outbound", "RequestUUID": call.request_id},
    "vonage": lambda call: {},
}
"""The answer webhook's fields for an outbound leg."""


def _twilio_signature(
    url: str, form: dict[str, str], body: bytes, secret: str
) -> list[tuple[str, str]]:
    return [("X-Twilio-Signature", compute_signature(url, form, secret))]


def query_of(url: str) -> dict[str, str]:
    """The query parameters of a callback URL (tests read the dial id back)."""
    return dict(parse_qsl(url.partition("?")[2]))

"""Dial-outs end to end: the real gateway (uvicorn on loopback), the Live emulator, and the
simulator as the callee behind a fake carrier REST API (`gateway.sim.callee`).

`dial_out(...)` writes a profiles file with a `reminders` agent (`{customer_name}` in its
instructions), serves the fake carrier API, starts the gateway with the API key, the allowlist
and the carrier's API base pointed at the fake, runs `requests(client)` against the gateway and
waits for every placed call to finish.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from gateway.carriers.plivo.signature import NONCE_HEADER as PLIVO_NONCE_HEADER
from gateway.carriers.plivo.signature import SIGNATURE_HEADER as PLIVO_SIGNATURE_HEADER
from gateway.carriers.plivo.signature import compute_signature as plivo_signature
from gateway.carriers.telnyx.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    private_key_from_text,
    sign,
)
from gateway.carriers.vonage.signature import sign_webhook
from gateway.emulator import EmulatorConfig, LiveEmulator, Scenario, SessionRecord
from gateway.shell.runtime import CallRecord
from gateway.sim.callee import CalleePlan, FakeCarrierApi, Signer
from gateway.sim.dialect import CarrierDialect
from gateway.sim.plivo import PlivoDialect
from gateway.sim.recording import Recording, load_recording
from gateway.sim.signalwire import SignalWireDialect
from gateway.sim.telnyx import TelnyxDialect
from gateway.sim.twilio import TwilioDialect
from gateway.sim.vonage import VonageDialect
from tests.carriers.test_vonage_rest import keys
from tests.e2e.carrier_cases import TELNYX_PUBLIC_KEY, TELNYX_SEED, VONAGE_SECRET
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN, running_gateway, wait_for
from tests.loopback import serve_app

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
API_KEY = "outbound-api-key-0123456789"
CALLEE = "+15550104242"
CALLER_ID = "+15550100000"
REPLY = "Hi Ada, this is Example Co calling to remind you of your appointment tomorrow at ten"
PROFILES = """
default = "support"

[profiles.support]
instructions = "You are the support agent of Example Co."

[profiles.reminders]
instructions = "You call {customer_name} to remind them of their appointment on {day}."
voicemail_message = "Hi {customer_name}, this is Example Co: your appointment is on {day}."
hello_timeout_ms = 6000
"""
VOICEMAIL = "Hi Ada, this is Example Co: your appointment is on Tuesday."
TWILIO_FIELDS = {"to": "To", "url": "Url", "status": "StatusCallback", "amd": "MachineDetection"}
TWILIO_DETECTION = {"MachineDetection": "DetectMessageEnd", "AsyncAmd": "true"}
PLIVO_AUTH_ID = "MAODUMODUMODUMODUMOD"
VONAGE_APP_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
PLIVO_TOKEN = "plivo-auth-token-0123456789"
SIGNALWIRE_PROJECT = "b9c7ac8e-1a5d-4c3e-9f3a-3f1f0e6b2d10"
SIGNALWIRE_TOKEN = "PT_signalwire_api_token_0123456"
SIGNALWIRE_KEY = "PSK_signalwire_signing_key_0123"
TELNYX_API_KEY = "KEY0123456789ABCDEF_telnyx"
TELNYX_ACCOUNT = "7f3c6c1e-4c1d-4b83-9d0e-1c2b3a4d5e6f"


@dataclass(frozen=True)
class DialCarrier:
    name: str
    env: Callable[[str], Mapping[str, str]]
    """The gateway's environment given the fake API's URL."""
    account: str
    token: str
    signing: str
    dialect: Callable[[], CarrierDialect]
    sign: Signer | None = None
    hang_up: Mapping[str, list[str]] = field(default_factory=lambda: {"Status": ["completed"]})
    """The REST request the fake API sees when the gateway hangs up."""
    fields: Mapping[str, str] = field(default_factory=lambda: TWILIO_FIELDS)
    """The create request's field names: `to`, `url` (answer), `status`, `amd`."""
    detection: Mapping[str, str] = field(default_factory=lambda: TWILIO_DETECTION)
    """The create request's fields that ask for machine detection."""
    greeting_end: bool = True
    """Its detection reports the end of a greeting (`leave_voicemail` is possible)."""


def _signalwire_sign(
    url: str, form: dict[str, str], body: bytes, secret: str
) -> list[tuple[str, str]]:
    from gateway.carriers.signalwire.signature import compute_signature

    signature = compute_signature(url, form.items(), secret)
    return [("X-SignalWire-Signature", signature), ("X-Twilio-Signature", signature)]


def _plivo_sign(url: str, form: dict[str, str], body: bytes, secret: str) -> list[tuple[str, str]]:
    nonce = secrets.token_hex(10)
    signature = plivo_signature("POST", url, form.items(), nonce, secret)
    return [(PLIVO_SIGNATURE_HEADER, signature), (PLIVO_NONCE_HEADER, nonce)]


def _vonage_sign(
    url: str, event: dict[str, str], body: bytes, secret: str
) -> list[tuple[str, str]]:
    return [("Authorization", sign_webhook(secret, time.time(), body=body))]


def _telnyx_sign(url: str, form: dict[str, str], body: bytes, secret: str) -> list[tuple[str, str]]:
    timestamp = str(int(time.time()))
    signature = sign(body, timestamp, private_key_from_text(secret))
    return [(SIGNATURE_HEADER, signature), (TIMESTAMP_HEADER, timestamp)]


CARRIERS = {
    "twilio": DialCarrier(
        "twilio",
        lambda url: {"TWILIO_API_BASE": url},
        ACCOUNT_SID,
        AUTH_TOKEN,
        AUTH_TOKEN,
        TwilioDialect,
    ),
    "signalwire": DialCarrier(
        "signalwire",
        lambda url: {
            "SIGNALWIRE_SPACE_URL": url,
            "SIGNALWIRE_PROJECT_ID": SIGNALWIRE_PROJECT,
            "SIGNALWIRE_API_TOKEN": SIGNALWIRE_TOKEN,
            "SIGNALWIRE_SIGNING_KEY": SIGNALWIRE_KEY,
        },
        SIGNALWIRE_PROJECT,
        SIGNALWIRE_TOKEN,
        SIGNALWIRE_KEY,
        SignalWireDialect,
        _signalwire_sign,
    ),
    "telnyx": DialCarrier(
        "telnyx",
        lambda url: {
            "TELNYX_API_BASE": url,
            "TELNYX_API_KEY": TELNYX_API_KEY,
            "TELNYX_PUBLIC_KEY": TELNYX_PUBLIC_KEY,
            "TELNYX_ACCOUNT_SID": TELNYX_ACCOUNT,
            "TELNYX_TEXML_APP_ID": "1773070540731319841",
        },
        TELNYX_ACCOUNT,
        TELNYX_API_KEY,
        base64.b64encode(TELNYX_SEED).decode(),
        TelnyxDialect,
        _telnyx_sign,
        {"action": ["hangup"]},
    ),
    "plivo": DialCarrier(
        "plivo",
        lambda url: {
            "PLIVO_API_BASE": url,
            "PLIVO_AUTH_ID": PLIVO_AUTH_ID,
            "PLIVO_AUTH_TOKEN": PLIVO_TOKEN,
        },
        PLIVO_AUTH_ID,
        PLIVO_TOKEN,
        PLIVO_TOKEN,
        PlivoDialect,
        _plivo_sign,
        {"method": ["DELETE"]},
        {"to": "to", "url": "answer_url", "status": "hangup_url", "amd": "machine_detection"},
        {"machine_detection": "true"},
        greeting_end=False,
    ),
    "vonage": DialCarrier(
        "vonage",
        lambda url: {
            "VONAGE_API_BASE": url,
            "VONAGE_APPLICATION_ID": VONAGE_APP_ID,
            "VONAGE_PRIVATE_KEY": keys()[0],
            "VONAGE_SIGNATURE_SECRET": VONAGE_SECRET,
        },
        VONAGE_APP_ID,
        "jwt",
        VONAGE_SECRET,
        VonageDialect,
        _vonage_sign,
        {"action": ["hangup"]},
        {
            "to": "to",
            "url": "answer_url",
            "status": "event_url",
            "amd": "advanced_machine_detection",
        },
        {"advanced_machine_detection": '{"behavior": "continue", "mode": "detect_beep"}'},
    ),
}


def recording(name: str) -> Recording:
    return load_recording(RECORDINGS / f"{name}.wav")


@dataclass
class DialRun:
    api: FakeCarrierApi
    responses: list[httpx.Response]
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    """`GET /calls/{id}` after every call ended, by dial id."""
    calls: list[CallRecord] = field(default_factory=list)
    sessions: list[SessionRecord] = field(default_factory=list)
    metrics: str = ""
    """`GET /metrics` after every call ended."""


Requests = Callable[[httpx.AsyncClient], Awaitable[list[httpx.Response]]]


def auth(key: str = API_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "to": CALLEE,
        "from": CALLER_ID,
        "profile": "reminders",
        "variables": {"customer_name": "Ada", "day": "Tuesday"},
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


async def dial_out(
    tmp: Path,
    carrier: DialCarrier,
    plan: CalleePlan | Callable[[str], CalleePlan],
    requests: Requests,
    *,
    env: Mapping[str, str] | None = None,
    scenario: Scenario | None = None,
) -> DialRun:
    profiles = tmp / "agents.toml"
    profiles.write_text(PROFILES)
    api = FakeCarrierApi(
        plan if callable(plan) else (lambda to: plan),
        account_sid=carrier.account,
        auth_token=carrier.token,
        signing_secret=carrier.signing,
        dialect=carrier.dialect,
        sign=carrier.sign,
    )
    scenario = scenario or Scenario(replies=(REPLY,) * 5)
    async with (
        serve_app(api.app) as api_url,
        LiveEmulator(EmulatorConfig(), scenario) as emulator,
        running_gateway(
            emulator,
            {
                "GATEWAY_API_KEY": API_KEY,
                "GATEWAY_DIAL_ALLOWED_PREFIXES": "+1555010",
                "GATEWAY_AGENTS_FILE": str(profiles),
                **carrier.env(api_url),
                **(env or {}),
            },
        ) as gateway,
    ):
        try:
            async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
                responses = await requests(client)
                run = DialRun(api, responses)
                async with asyncio.timeout(60):
                    for call in list(api.calls.values()):
                        await call.done.wait()
                await wait_for(lambda: gateway.runtime.active_calls == 0, 20)
                for response in responses:
                    if response.status_code == 201:
                        dial_id = response.json()["id"]
                        status = await client.get(f"/calls/{dial_id}", headers=auth())
                        run.statuses[dial_id] = status.json()
                run.metrics = (await client.get("/metrics")).text
            run.calls = list(gateway.calls)
            run.sessions = list(emulator.recorder.sessions)
            return run
        finally:
            await api.aclose()

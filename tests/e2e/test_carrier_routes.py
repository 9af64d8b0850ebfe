"""The HTTP routes of Telnyx, Plivo and SignalWire beside the call itself: the admission
fallback in each dialect, status callbacks, Plivo's action XML, Telnyx's replay window."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import httpx
import numpy as np
import pytest

from gateway.carriers.plivo.signature import NONCE_HEADER, SIGNATURE_HEADER
from gateway.carriers.plivo.signature import compute_signature as plivo_signature
from gateway.carriers.signalwire.signature import compute_signature as signalwire_signature
from gateway.carriers.telnyx.signature import private_key_from_text, sign
from gateway.emulator import LiveEmulator
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.script import CallScript
from tests.e2e.carrier_cases import CASES
from tests.e2e.harness import running_gateway

SILENCE = CallScript(audio=np.zeros(800, dtype=np.int16), tail_ms=100)
OURS = ["telnyx", "plivo", "signalwire"]
FALLBACK = "+15550009999"


@pytest.mark.parametrize("carrier", OURS)
async def test_a_draining_gateway_answers_each_dialects_fallback(carrier: str) -> None:
    case = CASES[carrier]
    env = {**case.env, "GATEWAY_FALLBACK_NUMBER": FALLBACK}
    async with LiveEmulator() as emulator, running_gateway(emulator, env) as gateway:
        gateway.runtime.draining = True
        report = await place_call(
            gateway.base_url, SILENCE, case.sim_options(), dialect=case.dialect()
        )
        assert report.outcome is CallOutcome.NO_STREAM
        kinds = [verb.kind for verb in report.verbs_before]
        assert kinds[-1] == "Dial"
        assert kinds[0] in ("Say", "Speak")
        assert FALLBACK in report.verbs_before[-1].text
        assert emulator.recorder.sessions == []


def _telnyx_headers(body: bytes, stamp: int) -> dict[str, str]:
    key = private_key_from_text(CASES["telnyx"].secret)
    return {
        "telnyx-signature-ed25519": sign(body, str(stamp), key),
        "telnyx-timestamp": str(stamp),
        "content-type": "application/x-www-form-urlencoded",
    }


async def test_telnyx_refuses_a_replayed_webhook_and_takes_status_callbacks() -> None:
    case = CASES["telnyx"]
    body = urlencode({"CallSid": "v3:x", "StreamEvent": "stream-started"}).encode()
    async with LiveEmulator() as emulator, running_gateway(emulator, case.env) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url) as client:
            stale = _telnyx_headers(body, int(time.time()) - 600)
            voice = await client.post("/telnyx/voice", content=body, headers=stale)
            assert voice.status_code == 403
            fresh = _telnyx_headers(body, int(time.time()))
            status = await client.post("/telnyx/status", content=body, headers=fresh)
            assert status.status_code == 204
        assert gateway.runtime.webhooks_rejected == 1
        assert emulator.recorder.sessions == []


async def test_plivo_serves_the_xml_its_transfer_points_to_only_when_signed() -> None:
    case = CASES["plivo"]
    token = case.env["PLIVO_AUTH_TOKEN"]
    form = {"CallUUID": case.call_id}
    async with LiveEmulator() as emulator, running_gateway(emulator, case.env) as gateway:
        query = urlencode({"to": "+15551230100", "say": "One moment & thanks."})
        url = f"{gateway.base_url}/plivo/action?{query}"
        nonce = "12345678901234567890"
        headers = {
            SIGNATURE_HEADER: plivo_signature("POST", url, form.items(), nonce, token),
            NONCE_HEADER: nonce,
        }
        async with httpx.AsyncClient() as client:
            signed = await client.post(url, data=form, headers=headers)
            unsigned = await client.post(url, data=form)
            status_url = f"{gateway.base_url}/plivo/status"
            status_form = {"CallUUID": case.call_id, "Event": "StartStream"}
            status_headers = {
                SIGNATURE_HEADER: plivo_signature(
                    "POST", status_url, status_form.items(), nonce, token
                ),
                NONCE_HEADER: nonce,
            }
            status = await client.post(status_url, data=status_form, headers=status_headers)
    assert signed.status_code == 200
    assert signed.text.endswith(
        "<Response><Speak>One moment &amp; thanks.</Speak>"
        "<Dial><Number>+15551230100</Number></Dial></Response>"
    )
    assert unsigned.status_code == 403
    assert status.status_code == 204


async def test_signalwire_status_callbacks_are_checked() -> None:
    case = CASES["signalwire"]
    form = {"CallSid": case.call_id, "StreamSid": "MZ1", "StreamEvent": "stream-stopped"}
    async with LiveEmulator() as emulator, running_gateway(emulator, case.env) as gateway:
        url = f"{gateway.base_url}/signalwire/status"
        signature = signalwire_signature(url, form.items(), case.secret)
        async with httpx.AsyncClient() as client:
            signed = await client.post(
                url, data=form, headers={"X-SignalWire-Signature": signature}
            )
            forged = await client.post(url, data=form, headers={"X-SignalWire-Signature": "x"})
    assert (signed.status_code, forged.status_code) == (204, 403)

"""The edge for every carrier built on the translator seam, end to end: webhook signatures and
stream tokens decide whether a Live session opens.

The real gateway app on uvicorn (loopback) and the Live emulator; the simulator's dialect of
each carrier signs (or mis-signs) the webhook, and plays a hostile carrier on the media socket
by presenting a forged, missing or reused stream token.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from gateway.carriers.plivo.signature import SIGNATURE_HEADER
from gateway.carriers.plivo.xml import header_value
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER
from gateway.emulator import LiveEmulator
from gateway.sim.call import place_call
from gateway.sim.dialect import CarrierDialect, StreamAnswer
from gateway.sim.entries import CallOutcome
from gateway.sim.script import CallScript, SimOptions
from tests.e2e.carrier_cases import CASES, CarrierCase
from tests.e2e.harness import running_gateway

SILENCE = CallScript(audio=np.zeros(8000, dtype=np.int16), tail_ms=200)
CARRIERS = list(CASES)
NO_PREWARM = {"GATEWAY_PREWARM_HOLD_S": "0"}


async def _answer(
    case: CarrierCase, base_url: str, options: SimOptions
) -> tuple[CarrierDialect, StreamAnswer]:
    """The gateway's answer to a signed webhook, and the dialect that read it (it knows the
    stream's format from the answer)."""
    dialect = case.dialect()
    request = dialect.webhook(base_url, options)
    async with httpx.AsyncClient() as client:
        get = request.method == "GET"  # the fields go in the query string (Vonage, Exotel)
        response = await client.request(
            request.method,
            request.url,
            params=list(request.form) if get else None,
            content=request.body if request.body is not None else None,
            data=dict(request.form) if request.body is None and not get else None,
            headers=list(request.headers),
        )
    assert response.status_code == 200, response.text
    return dialect, dialect.parse_answer(response.text)


def _token(answer: StreamAnswer) -> str:
    assert answer.stream_url is not None
    found = dict(parse_qsl(urlsplit(answer.stream_url).query)) | dict(answer.parameters)
    return found[STREAM_TOKEN_PARAMETER]


async def _open_stream(
    dialect: CarrierDialect, answer: StreamAnswer, options: SimOptions, replace: dict[str, str]
) -> int | None:
    """Open the answer's stream as the carrier would, with `replace` applied to everything it
    presents (URL, parameters, opening messages); returns the gateway's close code."""

    def tampered(text: str) -> str:
        for old, new in replace.items():
            text = text.replace(old, new)
        return text

    assert answer.stream_url is not None
    url = tampered(answer.stream_url)
    parameters = tuple((k, tampered(v)) for k, v in answer.parameters)
    stream = dialect.new_stream(options)
    headers = dialect.upgrade_headers(url, options)
    async with connect(url, additional_headers=headers, open_timeout=5) as ws:
        for message in stream.opening(parameters):
            await ws.send(tampered(message))
        try:
            async with asyncio.timeout(5):
                async for _ in ws:
                    pass
        except ConnectionClosed:
            pass
        return ws.close_code


@pytest.mark.parametrize("carrier", CARRIERS)
async def test_a_bad_webhook_signature_gets_403_and_no_live_session(carrier: str) -> None:
    case = CASES[carrier]
    async with LiveEmulator() as emulator, running_gateway(emulator, case.env) as gateway:
        options = case.sim_options(corrupt_signature=True, speed=4.0)
        report = await place_call(gateway.base_url, SILENCE, options, dialect=case.dialect())
        assert report.outcome is CallOutcome.WEBHOOK_FAILED
        assert report.webhook_status == 403
        unsigned = case.sim_options(sign_webhook=False, speed=4.0)
        report = await place_call(gateway.base_url, SILENCE, unsigned, dialect=case.dialect())
        assert report.webhook_status == 403
        await asyncio.sleep(0.2)  # a pre-warm, had one started, would have connected by now
        assert emulator.recorder.sessions == []
        assert gateway.runtime.webhooks_rejected == 2
        assert gateway.calls == []


@pytest.mark.parametrize("carrier", CARRIERS)
async def test_without_a_key_the_carrier_is_refused_unless_allowed_unsigned(carrier: str) -> None:
    case = CASES[carrier]
    unsigned = case.sim_options(sign_webhook=False, speed=4.0)
    async with LiveEmulator() as emulator, running_gateway(emulator) as gateway:
        report = await place_call(gateway.base_url, SILENCE, unsigned, dialect=case.dialect())
        assert report.webhook_status == 403
        assert emulator.recorder.sessions == []
    allowed = {"GATEWAY_UNSIGNED_CARRIERS": carrier}
    async with LiveEmulator() as emulator, running_gateway(emulator, allowed) as gateway:
        report = await place_call(gateway.base_url, SILENCE, unsigned, dialect=case.dialect())
        assert report.outcome is CallOutcome.COMPLETED, report.errors
        assert len(gateway.calls) == 1


@pytest.mark.parametrize("carrier", CARRIERS)
@pytest.mark.parametrize("how", ["forged", "missing"])
async def test_a_stream_without_a_valid_token_closes_without_a_live_session(
    carrier: str, how: str
) -> None:
    case = CASES[carrier]
    env: dict[str, Any] = {**case.env, **NO_PREWARM}
    async with LiveEmulator() as emulator, running_gateway(emulator, env) as gateway:
        options = case.sim_options()
        dialect, answer = await _answer(case, gateway.base_url, options)
        token = _token(answer)
        presented = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        presented = presented if how == "forged" else ""
        # Plivo's answer carries the token twice: as is, and hex-encoded in extraHeaders.
        replace = {token: presented, header_value(token): header_value(presented)}
        code = await _open_stream(dialect, answer, options, replace)
        assert code == 1008
        assert emulator.recorder.sessions == []  # pre-warm off: any session would be the stream's
        assert gateway.calls == []
        assert gateway.runtime.streams_rejected == 1


@pytest.mark.parametrize("carrier", CARRIERS)
async def test_a_token_works_once(carrier: str) -> None:
    case = CASES[carrier]
    async with LiveEmulator() as emulator, running_gateway(emulator, case.env) as gateway:
        options = case.sim_options()
        dialect, answer = await _answer(case, gateway.base_url, options)
        first = asyncio.create_task(_open_stream(dialect, answer, options, {}))
        async with asyncio.timeout(5):
            while gateway.runtime.active_calls != 1:  # noqa: ASYNC110 - another component's state
                await asyncio.sleep(0.02)
        assert await _open_stream(dialect, answer, options, {}) == 1008
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        assert gateway.runtime.streams_rejected == 1


@pytest.mark.parametrize("how", ["corrupt", "missing", "other_url", "no_nonce"])
async def test_a_plivo_upgrade_with_a_bad_signature_is_refused(how: str) -> None:
    """Plivo signs the media upgrade (V3 over the stream URL): with PLIVO_AUTH_TOKEN set, an
    upgrade whose signature is wrong or missing gets 403 before the socket opens, and no Live
    session is opened. A correctly signed one with the same token proceeds (the control)."""
    case = CASES["plivo"]
    env: dict[str, Any] = {**case.env, **NO_PREWARM}
    async with LiveEmulator() as emulator, running_gateway(emulator, env) as gateway:
        options = case.sim_options()
        dialect, answer = await _answer(case, gateway.base_url, options)
        assert answer.stream_url is not None
        url = answer.stream_url
        signed = dict(dialect.upgrade_headers(url, options))
        headers = {
            "corrupt": dialect.upgrade_headers(url, case.sim_options(corrupt_signature=True)),
            "missing": dialect.upgrade_headers(url, case.sim_options(sign_upgrade=False)),
            "other_url": dialect.upgrade_headers(url + "&x=1", options),
            "no_nonce": [(SIGNATURE_HEADER, signed[SIGNATURE_HEADER])],
        }[how]
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, additional_headers=headers, open_timeout=5):
                pass
        assert refused.value.response.status_code == 403
        assert gateway.runtime.streams_rejected == 1
        await asyncio.sleep(0.2)  # a session, had one been opened, would be recorded by now
        assert emulator.recorder.sessions == []
        assert gateway.calls == []
        # The same upgrade, signed as Plivo signs it, is accepted.
        async with connect(url, additional_headers=list(signed.items()), open_timeout=5):
            pass
        assert gateway.runtime.streams_rejected == 1

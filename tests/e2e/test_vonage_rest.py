"""Vonage hang-up and transfer requests reaching a fake Voice API on loopback.

The gateway's `CallControlClient` sends what `VonageCallControl` builds to a real HTTP server
(uvicorn, port 0) standing in for api.nexmo.com; the server records each request exactly.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.carriers.vonage.rest import VonageCallControl
from gateway.core.events import HangUp
from gateway.shell.call_control import CallControlClient
from tests.carriers.test_vonage_rest import APP_ID, FROM, TRANSFER, TRANSFER_BODY, keys
from tests.loopback import serve_app


@dataclass
class FakeVoiceApi:
    status: int = 204
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)

    async def update(self, request: Request) -> Response:
        body = await request.body()
        self.requests.append((request.method, request.url.path, dict(request.headers), body))
        return Response(status_code=self.status)


@asynccontextmanager
async def fake_api(status: int = 204) -> AsyncIterator[tuple[FakeVoiceApi, str]]:
    api = FakeVoiceApi(status)
    app = Starlette(routes=[Route("/v1/calls/{uuid}", api.update, methods=["PUT"])])
    async with serve_app(app) as base_url:
        yield api, base_url


def _control(base_url: str) -> VonageCallControl:
    return VonageCallControl(
        APP_ID,
        keys()[0],
        clock_s=lambda: 1_700_000_000.0,
        new_id=lambda: "jti-e2e",
        api_base=base_url,
        from_number=FROM,
    )


def _claims(headers: dict[str, str]) -> dict[str, object]:
    scheme, token = headers["authorization"].split(" ")
    assert scheme == "Bearer"
    return jwt.decode(token, keys()[1], algorithms=["RS256"], options={"verify_exp": False})


async def test_hang_up_and_transfer_reach_the_voice_api_exactly() -> None:
    async with fake_api() as (api, base_url), httpx.AsyncClient() as http:
        client = CallControlClient(http)
        hung_up = await client.perform(_control(base_url), "uuid-1", HangUp())
        transferred = await client.perform(_control(base_url), "uuid-1", TRANSFER)
    assert hung_up.ok
    assert transferred.ok
    (method, path, headers, body), (method2, path2, headers2, body2) = api.requests
    assert (method, path, method2, path2) == ("PUT", "/v1/calls/uuid-1", "PUT", "/v1/calls/uuid-1")
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"action": "hangup"}
    assert json.loads(body2) == TRANSFER_BODY
    for sent in (headers, headers2):
        assert _claims(sent) == {
            "application_id": APP_ID,
            "iat": 1_700_000_000,
            "exp": 1_700_000_300,
            "jti": "jti-e2e",
        }


async def test_a_call_that_already_ended_is_not_an_error() -> None:
    async with fake_api(404) as (api, base_url), httpx.AsyncClient() as http:
        result = await CallControlClient(http).perform(_control(base_url), "gone", HangUp())
    assert result.ok
    assert len(api.requests) == 1


async def test_bad_credentials_fail_without_retrying() -> None:
    async with fake_api(401) as (api, base_url), httpx.AsyncClient() as http:
        result = await CallControlClient(http).perform(_control(base_url), "u", HangUp())
    assert not result.ok
    assert len(api.requests) == 1

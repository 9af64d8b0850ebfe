"""A fake Twilio REST API (Calls resource) for loopback tests: answers as told, records requests.

Serve it with `tests.loopback.serve_app(fake_twilio(...))` and point `TWILIO_API_BASE` (or a
`CallControlClient`) at it; `app.state.received` lists every request, parsed.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["Answer", "Received", "fake_twilio"]


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    user: str
    password: str
    content_type: str
    form: dict[str, list[str]]


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: Any = None
    headers: dict[str, str] | None = None
    delay_s: float = 0.0


def fake_twilio(*answers: Answer) -> Starlette:
    """Answers in order (then 200 with a call resource); records every request."""
    queue = list(answers)
    received: list[Received] = []

    async def update(request: Request) -> Response:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        assert scheme == "Basic"
        body = (await request.body()).decode()
        received.append(
            Received(
                request.method,
                request.url.path,
                user,
                password,
                request.headers.get("content-type", ""),
                parse_qs(body),
            )
        )
        answer = queue.pop(0) if queue else Answer()
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        call = request.path_params["call"]
        body = answer.body if answer.body is not None else {"sid": call, "status": "in-progress"}
        return JSONResponse(body, answer.status, headers=answer.headers)

    app = Starlette(
        routes=[Route("/2010-04-01/Accounts/{sid}/Calls/{call}.json", update, methods=["POST"])]
    )
    app.state.received = received
    return app

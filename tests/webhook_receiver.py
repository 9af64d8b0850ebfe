"""A post-call webhook receiver for loopback tests: answers as told, keeps every request."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["Received", "Receiver"]


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """`statuses` are answered in order (then 200); `hang`: never answer at all."""

    statuses: list[int] = field(default_factory=list)
    hang: bool = False
    received: list[Received] = field(default_factory=list)
    documents: dict[str, bytes] = field(default_factory=dict)
    """Accepted documents by delivery id (a receiver that dedupes)."""

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            self.received.append(Received(dict(request.headers), body))
            if self.hang:
                await asyncio.Event().wait()
            status = self.statuses.pop(0) if self.statuses else 200
            if 200 <= status < 300:
                self.documents.setdefault(request.headers["gateway-delivery"], body)
            return Response(status_code=status)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])

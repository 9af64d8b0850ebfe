"""A test backend with the answers the example backend does not give: errors, text, large bodies,
an echo of what arrived, and endpoints that fail a set number of times before they answer."""

from __future__ import annotations

import json
from collections import Counter

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def probe_app() -> Starlette:
    hits: Counter[str] = Counter()

    async def status(request: Request) -> Response:
        hits[request.url.path] += 1
        code = int(request.path_params["code"])
        return JSONResponse({"error": f"status {code}", "hint": "from the probe"}, code)

    async def flaky(request: Request) -> Response:
        """Fails with 503 `fail` times (per path), then answers."""
        hits[request.url.path] += 1
        if hits[request.url.path] <= int(request.query_params.get("fail", "1")):
            return JSONResponse({"error": "busy"}, 503)
        return JSONResponse({"ok": True, "attempt": hits[request.url.path]})

    async def text(request: Request) -> Response:
        hits[request.url.path] += 1
        return PlainTextResponse("plain words, not JSON")

    async def big(request: Request) -> Response:
        hits[request.url.path] += 1
        count = int(request.query_params.get("n", "1000"))
        return JSONResponse({"items": [{"n": i, "name": f"item number {i}"} for i in range(count)]})

    async def empty(request: Request) -> Response:
        hits[request.url.path] += 1
        return Response(status_code=204)

    async def echo(request: Request) -> Response:
        hits[request.url.path] += 1
        raw = await request.body()
        return JSONResponse(
            {
                "method": request.method,
                "path": request.url.path,
                "raw_path": request.scope["raw_path"].decode(),
                "query": [[k, v] for k, v in request.query_params.multi_items()],
                "json": json.loads(raw) if raw else None,
                "authorization": request.headers.get("authorization"),
                "accept": request.headers.get("accept"),
                "x_tenant": request.headers.get("x-tenant"),
            }
        )

    async def lone_surrogate(request: Request) -> Response:
        """Valid JSON whose strings hold halves of a surrogate pair (a JavaScript backend that
        cut a string in the middle of an emoji)."""
        hits[request.url.path] += 1
        raw = b'{"name": "caf\\ud83d", "items": ["\\ude00ok"], "\\ud800key": 1}'
        return Response(raw, media_type="application/json")

    async def redirect(request: Request) -> Response:
        """Sends the client elsewhere (another path, or another host)."""
        hits[request.url.path] += 1
        return Response(status_code=302, headers={"location": request.query_params["to"]})

    app = Starlette(
        routes=[
            Route("/status/{code:int}", status, methods=ALL_METHODS),
            Route("/flaky/{name}", flaky, methods=ALL_METHODS),
            Route("/text", text),
            Route("/big", big),
            Route("/empty", empty, methods=ALL_METHODS),
            Route("/echo/{rest:path}", echo, methods=ALL_METHODS),
            Route("/lone-surrogate", lone_surrogate),
            Route("/redirect", redirect),
        ]
    )
    app.state.hits = hits
    return app

"""The `http` kind: one request to a business backend per call, its JSON answer to the model.

The URL may hold `{arg}` templates, filled from the arguments (URL-encoded) and taken out of the
rest. A path segment the arguments make `.` or `..` is sent as `%2E` or `%2E%2E`, so the model
cannot move up the backend's path (`/orders/{id}/details` with `id = ".."` stays under
`/orders/`); the host is never the model's, and redirects are not followed.
The other arguments go as the JSON body (`args_in = "json"`, the default for POST, PUT and
PATCH) or as the query string (`args_in = "query"`, the default otherwise). A 2xx answer becomes
`{"output": <parsed JSON>}` (text when the body is not JSON); anything else is a `ToolError`
whose `detail` is the backend's body, so the model can say what went wrong.

Idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) are retried `retries` times on a connection
failure, an attempt timeout, 429 or 5xx, after a short backoff with jitter; POST and PATCH are
sent once, because a retry could book the appointment twice. The tool's own timeout
(`Toolbox.run`) bounds all attempts together.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import quote

import httpx

from gateway.tools.base import Reply, ToolContext, ToolError

__all__ = ["IDEMPOTENT_METHODS", "MAX_BODY_BYTES", "METHODS", "HttpHandler", "placeholders"]

METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
MAX_BODY_BYTES: Final = 1024 * 1024
"""A backend's answer is read up to this size; the rest is dropped (then cut to the tool's
result limit anyway)."""
MAX_BACKOFF_S: Final = 2.0
_PLACEHOLDER: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DOT_SEGMENTS: Final = frozenset({".", ".."})

ArgsIn = Literal["json", "query"]


def placeholders(url: str) -> tuple[str, ...]:
    """The `{arg}` names in a URL template, in order."""
    return tuple(_PLACEHOLDER.findall(url))


def _url_parts(url: str) -> tuple[str, str, str]:
    """A URL template as (scheme and host, path, query and fragment)."""
    scheme, sep, rest = url.partition("://")
    start = rest.find("/")
    ends = [i for i in (rest.find("?"), rest.find("#")) if i >= 0]
    end = min(ends, default=len(rest))
    if start < 0 or start > end:
        start = end
    return scheme + sep + rest[:start], rest[start:end], rest[end:]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _query(args: Mapping[str, Any]) -> httpx.QueryParams:
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for name, value in args.items():
        if value is None:
            continue
        if isinstance(value, list):
            pairs.extend((name, _text(item)) for item in value if item is not None)
        else:
            pairs.append((name, _text(value)))
    return httpx.QueryParams(pairs)


async def _read(response: httpx.Response) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return b"".join(chunks)[:MAX_BODY_BYTES], True
    return b"".join(chunks), False


def _body(response: httpx.Response, raw: bytes, cut: bool) -> Any:
    if not raw.strip():
        return f"HTTP {response.status_code}, no content"
    kind = response.headers.get("content-type", "").lower()
    if not cut and ("json" in kind or raw.lstrip()[:1] in (b"{", b"[")):
        try:
            return json.loads(raw)
        except ValueError:
            pass
    return raw.decode(response.encoding or "utf-8", "replace")


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


@dataclass(frozen=True)
class HttpHandler:
    method: str
    url: str
    """The URL template (`https://orders.example.com/orders/{order_id}`), env already resolved."""
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    args_in: ArgsIn = "query"
    attempt_timeout_s: float = 8.0
    retries: int = 0
    retry_backoff_s: float = 0.2
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    @property
    def attempts(self) -> int:
        return 1 + (self.retries if self.method in IDEMPOTENT_METHODS else 0)

    def _fill(self, args: Mapping[str, Any]) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if args.get(name) is None:
                raise ToolError(f"missing argument {name}")
            return quote(_text(args[name]), safe="")

        head, path, tail = _url_parts(self.url)
        segments = []
        for template in path.split("/"):
            segment = _PLACEHOLDER.sub(value, template)
            if segment in _DOT_SEGMENTS and segment != template:
                # A `.` or `..` the arguments made would move up the backend's path (clients
                # and servers resolve dot segments): sent encoded, it is just a name.
                segment = segment.replace(".", "%2E")
            segments.append(segment)
        return head + "/".join(segments) + _PLACEHOLDER.sub(value, tail)

    async def invoke(self, args: Mapping[str, Any], context: ToolContext) -> Reply:
        used = set(placeholders(self.url))
        rest = {name: value for name, value in args.items() if name not in used}
        url = httpx.URL(self._fill(args))
        if self.args_in == "query":  # after the template's own query, if it has one
            url = url.copy_merge_params(_query(rest))
        body = rest if self.args_in == "json" else None
        last: ToolError | None = None
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                delay = self.retry_backoff_s * 2 ** (attempt - 2) * (0.5 + random.random() / 2)
                await self.sleep(min(delay, MAX_BACKOFF_S))
            facts: dict[str, Any] = {"attempts": attempt}
            try:
                async with context.http.stream(
                    self.method,
                    url,
                    json=body,
                    headers=self.headers,
                    timeout=self.attempt_timeout_s,
                ) as response:
                    raw, cut = await _read(response)
            except httpx.TimeoutException:
                last = ToolError(
                    "the backend did not answer in time", outcome="timeout", log_fields=facts
                )
                continue
            except httpx.TransportError as exc:
                message = f"the backend could not be reached ({type(exc).__name__})"
                last = ToolError(message, log_fields=facts)
                continue
            facts["status"] = response.status_code
            output = _body(response, raw, cut)
            if response.is_success:
                return Reply(output, log_fields=facts)
            last = ToolError(
                f"the backend answered HTTP {response.status_code} {response.reason_phrase}",
                detail=output,
                log_fields=facts,
            )
            if not _retryable(response.status_code):
                break
        assert last is not None
        raise last

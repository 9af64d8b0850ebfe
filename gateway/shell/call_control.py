"""Sends a carrier's call-control request (`ControlCall`) and answers with `CallControlled`.

`CallControlClient.perform` builds the request with the carrier's `CallControl`, sends it on the
shared `httpx.AsyncClient` with a timeout per attempt, and retries what the carrier calls
transient (429, 5xx) and connection failures or timeouts, at most `max_attempts` times, after a
backoff with jitter (honouring a short `Retry-After`). It never raises (except on cancel):
every end is a `CallControlled`, `ok` when the carrier did it or the call had already ended.
It logs one `call.control` line per attempt with the request's safe description, the status and
the decision; never the headers (credentials) or the body.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, Final

import httpx

from gateway.carriers.control import CallControl, ControlOutcome, RestRequest
from gateway.core.events import CallAction, CallControlled, Transfer
from gateway.log import get_logger

__all__ = ["CallControlClient"]

_log = get_logger(component="call_control")
MAX_RETRY_AFTER_S: Final = 5.0


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


class CallControlClient:
    """Performs call actions over HTTP; one per process, shared by every call."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        attempt_timeout_s: float = 5.0,
        max_attempts: int = 4,
        backoff_s: float = 0.25,
        max_backoff_s: float = 2.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._http = http
        self._attempt_timeout_s = attempt_timeout_s
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._jitter = jitter

    def _delay(self, attempt: int, hint: float | None) -> float:
        if hint is not None:
            return hint
        base = min(self._backoff_s * 2.0 ** (attempt - 1), self._max_backoff_s)
        return base * (0.5 + self._jitter() / 2)

    async def perform(
        self, control: CallControl, call_id: str, action: CallAction
    ) -> CallControlled:
        """Do `action` on the carrier's call `call_id`; the answer for the bridge."""
        log = _log.bind(
            carrier=control.carrier,
            carrier_call_id=call_id,
            action=type(action).__name__,
            label=action.label if isinstance(action, Transfer) else None,
        )
        try:
            request = control.request(call_id, action)
        except ValueError as exc:
            log.error("call.control", decision="failed", reason=str(exc))
            return CallControlled(action, ok=False, detail=f"cannot build the request: {exc}")
        log = log.bind(request=request.description)
        detail = ""
        for attempt in range(1, self._max_attempts + 1):
            hint: float | None = None
            try:
                response = await self._send(request)
            except httpx.TransportError as exc:  # connection failures and timeouts
                detail = f"{type(exc).__name__} on attempt {attempt}"
                decision = ControlOutcome.RETRY
                log.warning("call.control", attempt=attempt, decision=decision, error=detail)
            except Exception as exc:  # a bad URL, a broken client: retrying cannot help
                log.error(
                    "call.control", attempt=attempt, decision="failed", error=type(exc).__name__
                )
                return CallControlled(action, ok=False, detail=f"failed: {type(exc).__name__}")
            else:
                decision = control.outcome(response.status_code, response.content)
                detail = f"HTTP {response.status_code}"
                fields: dict[str, Any] = {"attempt": attempt, "status": response.status_code}
                if decision is ControlOutcome.DONE or decision is ControlOutcome.ALREADY_ENDED:
                    log.info("call.control", decision=decision, **fields)
                    return CallControlled(action, ok=True, detail=decision.value)
                if decision is ControlOutcome.FAILED:
                    log.error("call.control", decision=decision, **fields)
                    return CallControlled(action, ok=False, detail=f"failed: {detail}")
                log.warning("call.control", decision=decision, **fields)
                hint = _retry_after(response)
            if attempt < self._max_attempts:
                await self._sleep(self._delay(attempt, hint))
        log.error("call.control", decision="gave_up", attempts=self._max_attempts, error=detail)
        return CallControlled(
            action, ok=False, detail=f"gave up after {self._max_attempts} attempts: {detail}"
        )

    async def _send(self, request: RestRequest) -> httpx.Response:
        return await self._http.request(
            request.method,
            request.url,
            headers=dict(request.headers),
            data=dict(request.form) if request.form is not None else None,
            json=dict(request.json) if request.json is not None else None,
            timeout=self._attempt_timeout_s,
        )

"""Post-call webhooks: one signed JSON document per ended call, delivered in the background.

When a call ends, `submit` puts its document (`call_document`) in the outbox
(gateway.shell.webhook_outbox) and returns at once: a call never waits for a receiver. Workers
(`concurrency` of them) claim due deliveries and POST them, each attempt bounded by
`timeout_s`. A network error, a timeout, a 5xx, 408 or 429 is retried with exponential backoff
and jitter (`backoff_s` doubled per attempt up to `backoff_max_s`, each wait drawn from its
upper half) while attempts (`max_attempts`) and the age of the document (`max_age_s`) allow;
any other answer but 2xx fails at once. A full outbox refuses the document (`overflow`). On
shutdown (`close`, after the drain) what still waits gets one last attempt within
`shutdown_s`; what does not go through then is counted `abandoned`. A shared store
(gateway.shell.cluster_outbox, cluster mode) keeps what waits in it, and takes back the
deliveries cut short, for the other replicas: those get no last try here.

Every attempt is signed afresh: `Gateway-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>" with the secret>` (`sign`, `verify`: docs/operations.md has the receiver's side and
the replay window), and carries `Gateway-Delivery: <id>`, the same on every attempt, so that a
receiver can drop a document it already has. Logs name the receiver's host, never the document
(it holds the transcript).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from gateway.core.transcript import TranscriptLine, as_heard
from gateway.log import get_logger
from gateway.shell.webhook_outbox import Delivery, OutboxStore

__all__ = [
    "DELIVERY_HEADER",
    "OUTCOMES",
    "SIGNATURE_HEADER",
    "CallWebhooks",
    "WebhookPolicy",
    "call_document",
    "sign",
    "verify",
]

SIGNATURE_HEADER: Final = "Gateway-Signature"
DELIVERY_HEADER: Final = "Gateway-Delivery"
OUTCOMES: Final = ("delivered", "retried", "failed", "overflow", "abandoned")
"""The `outcome` label of `gateway_call_webhook_deliveries_total` (`retried`: an attempt that
failed and will be tried again)."""
_RETRY_STATUSES: Final = frozenset({408, 429})
_log = get_logger(component="webhooks")


def sign(secret: str, body: bytes, t: int) -> str:
    """The `Gateway-Signature` value for `body` sent at unix time `t`."""
    mac = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now_s: float, window_s: float = 300.0) -> bool:
    """A receiver's check: the signature matches and `t` is within `window_s` of `now_s`."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        t = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now_s - t) > window_s:
        return False
    expected = sign(secret, body, t).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def call_document(
    *,
    delivery_id: str,
    carrier: str,
    call_id: str,
    stream_id: str | None,
    direction: str,
    from_number: str | None,
    to_number: str | None,
    profile: str,
    ended_at_s: float,
    summary: Mapping[str, Any],
    transcript: Sequence[TranscriptLine],
    recordings: Mapping[str, str | None],
) -> dict[str, Any]:
    """The post-call document (docs/operations.md lists its fields)."""
    duration_ms = summary.get("duration_ms")
    started_at_s = ended_at_s - (duration_ms / 1000 if isinstance(duration_ms, int | float) else 0)
    return {
        "event": "call.ended",
        "delivery_id": delivery_id,
        "call_id": call_id,
        "stream_id": stream_id,
        "carrier": carrier,
        "direction": direction,
        "from": from_number,
        "to": to_number,
        "profile": profile,
        "started_at": _iso(started_at_s),
        "ended_at": _iso(ended_at_s),
        "outcome": summary.get("end_reason"),
        "summary": dict(summary),
        "transcript": as_heard(transcript),
        "usage": summary.get("usage"),
        "cost": summary.get("cost"),
        "recordings": dict(recordings),
    }


@dataclass(frozen=True)
class WebhookPolicy:
    timeout_s: float = 5.0
    """One attempt (connect, send, answer) at most."""
    max_attempts: int = 6
    backoff_s: float = 1.0
    backoff_max_s: float = 60.0
    max_age_s: float = 900.0
    """No attempt is started later than this after the call ended."""
    concurrency: int = 4
    max_pending: int = 1000
    shutdown_s: float = 5.0
    """The last try at shutdown, for everything still waiting."""


class CallWebhooks:
    """The deliveries of one gateway (see the module doc): `start`, `submit`, `close`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        secret: str,
        store: OutboxStore,
        policy: WebhookPolicy = WebhookPolicy(),
        *,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._http = http
        self._secret = secret
        self.store = store
        self.policy = policy
        self._clock = clock
        self._rng = rng
        self.counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        self.depth = 0
        """Deliveries waiting, as of the last change (read by the metrics at scrape time)."""
        self._wake = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._closing = False
        self._sending: dict[str, Delivery] = {}  # claimed, an attempt under way

    # ------------------------------------------------------------------------------ API

    def start(self) -> None:
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._work(), name=f"call-webhook-{n}")
                for n in range(self.policy.concurrency)
            ]

    async def submit(
        self, url: str, document: Mapping[str, Any], *, delay_s: float = 0.0, leg: int = 0
    ) -> bool:
        """Queue one document for `url` (never waits for the receiver), first tried `delay_s`
        from now; a document of the same `delivery_id` still waiting is replaced. False: the
        outbox was full or the gateway is stopping (counted `overflow`)."""
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        now = self._clock()
        delivery = Delivery(str(document.get("delivery_id") or uuid.uuid4()), url, body, now)
        delivery.due_s, delivery.leg = now + delay_s, leg
        kept = not self._closing and await self.store.add(delivery)
        if not kept:
            self.counts["overflow"] += 1
            _log.warning(
                "webhook.overflow",
                host=_host(url),
                pending=self.depth,
                limit=self.policy.max_pending,
            )
            return False
        self.depth = await self.store.depth()
        self._wake.set()
        return True

    async def close(self) -> None:
        """Stop the workers (an attempt under way is cut short), then give everything still
        waiting or being sent one last attempt, all at once, within `shutdown_s`."""
        self._closing = True
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers = []
        left: list[Delivery] = []
        handed_back = 0
        for delivery in self._sending.values():  # a shared store keeps them for the others
            if await self.store.hand_back(delivery):
                handed_back += 1
            else:
                left.append(delivery)
        left.extend(await self.store.drain())
        self._sending.clear()
        self.depth = 0
        if handed_back:
            _log.info("webhook.left_to_cluster", handed_back=handed_back)
        if not left:
            return
        results: list[bool] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.policy.shutdown_s):
                results = list(await asyncio.gather(*(self._last_try(d) for d in left)))
        abandoned = len(left) - sum(results)
        self.counts["abandoned"] += abandoned
        _log.info("webhook.shutdown", last_tries=len(left), abandoned=abandoned)

    async def withdraw(self, delivery_id: str, leg: int = 0) -> bool:
        """Drop a document still waiting (its call went on to leg `leg`, which sends the
        call's document); False when none waited or the store failed."""
        try:
            return await self.store.discard(delivery_id, leg)
        except Exception as exc:  # a store that fails must not fail the call
            _log.error("webhook.withdraw_failed", error_type=type(exc).__name__)
            return False

    # ---------------------------------------------------------------------------- inside

    async def _work(self) -> None:
        while True:
            now = self._clock()
            delivery = await self.store.claim(now)
            if delivery is None:
                self._wake.clear()
                due = await self.store.next_due_s()
                wait_s = 1.0 if due is None else min(1.0, max(0.0, due - now))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait_s):
                        await self._wake.wait()
                continue
            self.depth = await self.store.depth()
            self._sending[delivery.delivery_id] = delivery
            await self._attempt(delivery)  # cut short at shutdown: `close` takes it over
            self._sending.pop(delivery.delivery_id, None)

    async def _send(self, delivery: Delivery, timeout_s: float) -> int | None:
        """One POST; the status, or None when no answer came (the error kept)."""
        headers = {
            "content-type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, delivery.body, int(self._clock())),
            DELIVERY_HEADER: delivery.delivery_id,
        }
        delivery.attempts += 1
        try:
            response = await self._http.post(
                delivery.url, content=delivery.body, headers=headers, timeout=timeout_s
            )
        except httpx.HTTPError as exc:
            delivery.last_error = type(exc).__name__
            return None
        delivery.last_error = f"status {response.status_code}"
        return response.status_code

    async def _attempt(self, delivery: Delivery) -> None:
        status = await self._send(delivery, self.policy.timeout_s)
        if status is not None and 200 <= status < 300:
            self._delivered(delivery)
            await self.store.done(delivery)
            return
        policy = self.policy
        retryable = status is None or status >= 500 or status in _RETRY_STATUSES
        base = min(policy.backoff_max_s, policy.backoff_s * 2 ** (delivery.attempts - 1))
        wait_s = base / 2 + self._rng() * base / 2
        due = self._clock() + wait_s
        if (
            retryable
            and delivery.attempts < policy.max_attempts
            and due - delivery.created_s <= policy.max_age_s
        ):
            delivery.due_s = due
            await self.store.retry(delivery)
            self.depth = await self.store.depth()
            self.counts["retried"] += 1
            self._wake.set()
            return
        self.counts["failed"] += 1
        await self.store.done(delivery)
        _log.warning(
            "webhook.failed",
            host=_host(delivery.url),
            delivery_id=delivery.delivery_id,
            attempts=delivery.attempts,
            error=delivery.last_error,
        )

    async def _last_try(self, delivery: Delivery) -> bool:
        status = await self._send(delivery, self.policy.timeout_s)
        if status is not None and 200 <= status < 300:
            self._delivered(delivery)
            return True
        return False

    def _delivered(self, delivery: Delivery) -> None:
        self.counts["delivered"] += 1
        _log.info(
            "webhook.delivered",
            host=_host(delivery.url),
            delivery_id=delivery.delivery_id,
            attempts=delivery.attempts,
        )


def _host(url: str) -> str:
    return urlsplit(url).netloc

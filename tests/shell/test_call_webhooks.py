"""Post-call webhooks against a real HTTP receiver on loopback: a valid signature, retries with
backoff until one document is accepted, a receiver that never answers never holds up the next
submissions, a bounded queue, the last try at shutdown, the metrics."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from gateway.core.transcript import AGENT, CALLER, TranscriptLine
from gateway.shell.call_webhooks import (
    CallWebhooks,
    WebhookPolicy,
    call_document,
    sign,
    verify,
)
from gateway.shell.webhook_outbox import Delivery, MemoryOutbox
from tests.loopback import closed_port_url, serve_app
from tests.webhook_receiver import Receiver

SECRET = "whsec-0123456789abcdef"
FAST = WebhookPolicy(timeout_s=2.0, backoff_s=0.02, backoff_max_s=0.1, shutdown_s=2.0)


def _document(n: int = 1) -> dict[str, Any]:
    return {"delivery_id": f"d{n}", "event": "call.ended", "call_id": f"CA{n}"}


async def _until(predicate: Any, timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110 - another component's state
            await asyncio.sleep(0.01)


def test_the_document_holds_what_an_operator_needs() -> None:
    lines = [
        TranscriptLine(CALLER, "Hi", "Hi", 100.0),
        TranscriptLine(AGENT, "Hello there", "Hello", 900.0),
        TranscriptLine(CALLER, "[keypad] ***", "[keypad] ***", 2_000.0),
    ]
    summary = {"duration_ms": 61_500.0, "end_reason": "carrier stop", "usage": {"total_tokens": 9}}
    document = call_document(
        delivery_id="d1", carrier="twilio", call_id="CA1", stream_id="MZ1", direction="inbound",
        from_number="+15551230001", to_number="+15551230002", profile="sales",
        ended_at_s=1_800_000_061.5, summary=summary, transcript=lines,
        recordings={"audio": "a.wav", "transcript": None},
    )  # fmt: skip
    assert document == {
        "event": "call.ended",
        "delivery_id": "d1",
        "call_id": "CA1",
        "stream_id": "MZ1",
        "carrier": "twilio",
        "direction": "inbound",
        "from": "+15551230001",
        "to": "+15551230002",
        "profile": "sales",
        "started_at": "2027-01-15T08:00:00.000+00:00",
        "ended_at": "2027-01-15T08:01:01.500+00:00",
        "outcome": "carrier stop",
        "summary": summary,
        "transcript": [
            {"role": "caller", "at_ms": 100.0, "text": "Hi"},
            {"role": "agent", "at_ms": 900.0, "text": "Hello", "generated": "Hello there"},
            {"role": "caller", "at_ms": 2_000.0, "text": "[keypad] ***"},
        ],
        "usage": {"total_tokens": 9},
        "cost": None,
        "recordings": {"audio": "a.wav", "transcript": None},
    }


def test_the_signature_is_an_hmac_of_time_dot_body_and_has_a_replay_window() -> None:
    body = b'{"a":1}'
    header = sign(SECRET, body, 1_700_000_000)
    mac = hmac.new(SECRET.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={mac}"
    assert verify(SECRET, header, body, 1_700_000_100)
    assert not verify(SECRET, header, body, 1_700_000_301)  # older than 5 minutes
    assert not verify(SECRET, header, body + b" ", 1_700_000_000)
    assert not verify("another-secret-0123", header, body, 1_700_000_000)
    assert not verify(SECRET, "v1=" + mac, body, 1_700_000_000)


async def test_a_receiver_gets_one_signed_document() -> None:
    receiver = Receiver()
    async with serve_app(receiver.app()) as base, httpx.AsyncClient() as http:
        hooks = CallWebhooks(http, SECRET, MemoryOutbox(10), FAST)
        hooks.start()
        assert await hooks.submit(f"{base}/hook", _document())
        await _until(lambda: hooks.counts["delivered"] == 1)
        await hooks.close()
    [request] = receiver.received
    assert json.loads(request.body) == _document()
    t = int(request.headers["gateway-signature"].split(",")[0].removeprefix("t="))
    expected = hmac.new(SECRET.encode(), f"{t}.".encode() + request.body, hashlib.sha256)
    assert request.headers["gateway-signature"] == f"t={t},v1={expected.hexdigest()}"
    assert request.headers["gateway-delivery"] == "d1"
    assert request.headers["content-type"] == "application/json"


async def test_500_three_times_then_200_delivers_the_document_once() -> None:
    receiver = Receiver(statuses=[500, 500, 500, 200])
    async with serve_app(receiver.app()) as base, httpx.AsyncClient() as http:
        hooks = CallWebhooks(http, SECRET, MemoryOutbox(10), FAST)
        hooks.start()
        await hooks.submit(f"{base}/hook", _document())
        await _until(lambda: hooks.counts["delivered"] == 1)
        await hooks.close()
    assert len(receiver.received) == 4
    assert {r.headers["gateway-delivery"] for r in receiver.received} == {"d1"}
    assert len({r.body for r in receiver.received}) == 1
    assert list(receiver.documents) == ["d1"]
    assert hooks.counts == {
        "delivered": 1, "retried": 3, "failed": 0, "overflow": 0, "abandoned": 0
    }  # fmt: skip


async def test_retries_are_bounded_and_a_client_error_is_not_retried() -> None:
    receiver = Receiver(statuses=[503] * 10 + [400])
    policy = WebhookPolicy(timeout_s=2.0, max_attempts=3, backoff_s=0.01, backoff_max_s=0.02)
    async with serve_app(receiver.app()) as base, httpx.AsyncClient() as http:
        hooks = CallWebhooks(http, SECRET, MemoryOutbox(10), policy)
        hooks.start()
        await hooks.submit(f"{base}/hook", _document(1))
        await _until(lambda: hooks.counts["failed"] == 1)
        assert len(receiver.received) == 3  # max_attempts
        receiver.statuses = [400]
        await hooks.submit(f"{base}/hook", _document(2))
        await _until(lambda: hooks.counts["failed"] == 2)
        assert len(receiver.received) == 4  # a 400 is final
        await hooks.close()


async def test_backoff_doubles_with_jitter_in_the_upper_half() -> None:
    now = [1_000.0]
    store = MemoryOutbox(10)
    policy = WebhookPolicy(backoff_s=1.0, backoff_max_s=4.0, max_attempts=10)
    async with httpx.AsyncClient() as http:
        hooks = CallWebhooks(http, SECRET, store, policy, clock=lambda: now[0], rng=lambda: 1.0)
        delivery = Delivery("d1", closed_port_url(), b"{}", created_s=now[0])
        waits = []
        for _ in range(4):
            await hooks._attempt(delivery)
            claimed = await store.claim(float("inf"))
            assert claimed is delivery
            waits.append(delivery.due_s - now[0])
    assert waits == [1.0, 2.0, 4.0, 4.0]  # rng 1.0: the top of each half-range


async def test_a_receiver_that_never_answers_does_not_hold_up_the_next_calls() -> None:
    receiver = Receiver(hang=True)
    policy = WebhookPolicy(timeout_s=30.0, concurrency=2, max_pending=100, shutdown_s=0.5)
    async with serve_app(receiver.app()) as base, httpx.AsyncClient() as http:
        hooks = CallWebhooks(http, SECRET, MemoryOutbox(100), policy)
        hooks.start()
        # Twenty calls end while the receiver hangs: every submission returns at once ...
        for n in range(20):
            async with asyncio.timeout(1):
                assert await hooks.submit(f"{base}/hook", _document(n))
        await _until(lambda: len(receiver.received) == 2)
        # ... the workers wait on the receiver, the rest wait in the (bounded) queue.
        assert hooks.depth == 18
        await hooks.close()
    assert hooks.counts["abandoned"] == 20  # the two cut short at shutdown too
    assert hooks.counts["delivered"] == 0


async def test_a_full_queue_refuses_and_counts_the_overflow() -> None:
    async with httpx.AsyncClient() as http:
        hooks = CallWebhooks(http, SECRET, MemoryOutbox(2), FAST)  # not started: nothing sent
        results = [await hooks.submit(closed_port_url(), _document(n)) for n in range(5)]
    assert results == [True, True, False, False, False]
    assert hooks.counts["overflow"] == 3
    assert hooks.depth == 2


async def test_shutdown_gives_what_waits_one_last_try() -> None:
    receiver = Receiver()
    async with serve_app(receiver.app()) as base, httpx.AsyncClient() as http:
        hooks = CallWebhooks(http, SECRET, MemoryOutbox(10), FAST)  # never started
        for n in range(3):
            await hooks.submit(f"{base}/hook", _document(n))
        await hooks.close()
        assert sorted(receiver.documents) == ["d0", "d1", "d2"]
        assert hooks.counts["delivered"] == 3
        assert not await hooks.submit(f"{base}/hook", _document(9))  # stopping: refused


@pytest.mark.parametrize("max_pending", [0, -1])
def test_the_outbox_must_hold_something(max_pending: int) -> None:
    with pytest.raises(ValueError, match="max_pending"):
        MemoryOutbox(max_pending)

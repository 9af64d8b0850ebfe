"""The per-connection deadline and the loop-bound mailbox that replace `asyncio.timeout` and
`asyncio.Queue` on the media path: the same outcomes, on a real event loop."""

from __future__ import annotations

import asyncio

import pytest

from gateway.shell.deadline import Deadline
from gateway.shell.mailbox import Mailbox


async def test_a_wait_past_its_deadline_raises_timeout_and_the_task_goes_on() -> None:
    deadline = Deadline(asyncio.get_running_loop())
    with pytest.raises(TimeoutError), deadline.bound(0.01):
        await asyncio.Event().wait()
    # The task is not left cancelled: the next waits run normally.
    with deadline.bound(5):
        await asyncio.sleep(0)
    await asyncio.sleep(0.02)
    deadline.close()


async def test_each_wait_gets_its_own_timeout_from_one_timer() -> None:
    deadline = Deadline(asyncio.get_running_loop())
    # Many short waits, each well within its timeout, spread over longer than the timeout:
    # the timer set by the first one must not cut a later one.
    for _ in range(8):
        with deadline.bound(0.5):
            await asyncio.sleep(0.1)
    deadline.close()


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    deadline = Deadline(asyncio.get_running_loop())
    started = asyncio.Event()

    async def wait() -> None:
        with deadline.bound(5):
            started.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(wait())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    deadline.close()


async def test_the_mailbox_keeps_order_wakes_its_consumer_and_refuses_past_its_size() -> None:
    mailbox: Mailbox[int] = Mailbox(2)
    got: list[int] = []

    async def consume() -> None:
        for _ in range(3):
            got.append(await mailbox.get())

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0)  # the consumer waits on an empty mailbox
    assert mailbox.put_nowait(1)
    assert mailbox.put_nowait(2)
    assert not mailbox.put_nowait(3)  # full: refused, not added
    assert mailbox.qsize() == 2
    await asyncio.sleep(0)
    assert mailbox.put_nowait(4)
    await consumer
    assert got == [1, 2, 4]

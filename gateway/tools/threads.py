"""The worker threads of plain (`def`) Python tools: their own, bounded, and never waited for.

Blocking tools used to run in asyncio's default executor, which recordings, DNS lookups and
every other `asyncio.to_thread` share: a few hanging tools held all of its threads and a call's
recording was written long after the call ended. `ToolThreads` is a pool of at most `size`
threads for tools alone: a tool that finds them all busy waits in line (its own timeout still
bounds it, and a timed-out tool that never started is taken out of the line), and nothing else
in the gateway waits behind tools.

A thread cannot be stopped, so a hanging function keeps its thread until it returns. The threads
are daemons: a hanging tool cannot hold up the gateway's exit either.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, Final

__all__ = ["DEFAULT_TOOL_THREADS", "ToolThreads"]

DEFAULT_TOOL_THREADS: Final = 16
_Work = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class ToolThreads(Executor):
    """A bounded pool of daemon threads (see the module doc); threads start as work needs them."""

    def __init__(self, size: int = DEFAULT_TOOL_THREADS, name: str = "gateway-tool") -> None:
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        self.size = size
        self._name = name
        self._work: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._busy = 0
        self._closed = False

    @property
    def busy(self) -> int:
        """Threads running a function now."""
        return self._busy

    async def call(self, function: Callable[..., Any], /, **kwargs: Any) -> Any:
        """`function(**kwargs)` in one of the pool's threads, with the caller's context
        variables (log fields bound to the call), as `asyncio.to_thread` would."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        work = functools.partial(context.run, function, **kwargs)
        return await asyncio.wrap_future(self.submit(work), loop=loop)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the tool threads are shut down")
            self._work.put((future, fn, args, kwargs))
            # An idle thread takes it, else a new one while there is room, else it waits in
            # line for the first thread to finish. (`_idle` may count high once every thread
            # exists, when it no longer decides anything.)
            if self._idle:
                self._idle -= 1
            elif len(self._threads) < self.size:
                thread = threading.Thread(
                    target=self._run, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def _run(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():  # cancelled while it waited
                with self._lock:
                    self._idle += 1
                continue
            with self._lock:
                self._busy += 1
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # the tool's failure, reported through its future
                future.set_exception(exc)
            else:
                future.set_result(result)
            finally:
                with self._lock:
                    self._busy -= 1
                    self._idle += 1

    def shutdown(self, wait: bool = False, *, cancel_futures: bool = True) -> None:
        """Take no more work, drop what waits in line (its futures cancelled), let idle threads
        end. Running functions go on to their end; with `wait`, until they have."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        while cancel_futures:
            try:
                item = self._work.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for _ in threads:
            self._work.put(None)
        if wait:
            for thread in threads:
                thread.join()

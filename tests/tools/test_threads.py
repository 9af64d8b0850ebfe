"""Plain Python tools run in their own bounded pool of threads (`[limits] threads`), so that
hanging tools neither grow without bound nor hold up what uses asyncio's default threads (a
call's recording)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.agents.profile import AgentProfile
from gateway.audio.paths import CarrierFormat, Encoding
from gateway.core.events import CallStarted
from gateway.live.setup import LiveConfig
from gateway.shell.call_recording import CallRecording
from gateway.shell.recordings import RecordingStore
from gateway.tools.threads import ToolThreads
from tests.tools import sample_functions
from tests.tools.helpers import call, context, toolbox

HANG = """
[limits]
threads = {threads}

[[tools]]
name = "hang"
kind = "python"
description = "Hangs"
function = "tests.tools.sample_functions:hang"
timeout_s = {timeout_s}
[tools.parameters]
type = "object"
properties.n = {{ type = "integer" }}
"""


@pytest.fixture(autouse=True)
def _release_hung_tools() -> Iterator[None]:
    sample_functions.reset_hang()
    yield
    sample_functions.hang_release.set()


async def _until(predicate: object) -> None:
    assert callable(predicate)
    async with asyncio.timeout(30):  # a guard against a hang, not a timing
        while not predicate():  # noqa: ASYNC110 - worker threads change it
            await asyncio.sleep(0.01)


async def test_at_most_the_configured_threads_run_tools_and_the_rest_wait_in_line() -> None:
    box = toolbox(HANG.format(threads=2, timeout_s=0.5))
    assert box.threads is not None
    assert box.threads.size == 2
    async with httpx.AsyncClient() as http:
        runs = [box.run(call("hang", f"c{i}", n=i), context(http)) for i in range(5)]
        done = await asyncio.gather(*runs)
    # Every call timed out (the caller's wait is bounded whatever the threads do)...
    assert [d.outcome for d in done] == ["timeout"] * 5
    # ...only two functions ever started, in the tools' own threads; the three that waited in
    # line were taken out of it when their timeout came, and never run later.
    assert len(sample_functions.hang_started) == 2
    assert all(name.startswith("gateway-tool-") for name in sample_functions.hang_started)
    sample_functions.hang_release.set()
    await _until(lambda: box.threads is not None and box.threads.busy == 0)
    assert len(sample_functions.hang_started) == 2
    box.close()


async def test_hanging_tools_do_not_delay_a_recording(tmp_path: Path) -> None:
    """More hanging blocking tools than asyncio's default executor has threads: the recording
    of a call ending meanwhile is still written (its writes use the default threads)."""
    box = toolbox(HANG.format(threads=4, timeout_s=120))
    profile = AgentProfile("rec", LiveConfig(), record_audio=True, record_transcript=True)
    started = CallStarted("CA7", "MZ7", media_format=CarrierFormat(Encoding.L16, 8_000))
    recording = CallRecording(
        RecordingStore(tmp_path, retention_days=None), profile, "twilio", started
    )
    async with httpx.AsyncClient() as http:
        tools = [
            asyncio.create_task(box.run(call("hang", f"c{i}", n=i), context(http)))
            for i in range(40)  # the default executor has at most 32 threads
        ]
        await _until(lambda: len(sample_functions.hang_started) == 4)
        recording.caller(b"\x01\x00" * 160)
        async with asyncio.timeout(30):  # before: it waited for the tools (52 s in the issue)
            await recording.finish({"duration_ms": 20.0}, [])
        # Written while every tool still hangs, and the tools hold 4 threads, no more.
        assert not any(task.done() for task in tools)
        assert box.threads is not None
        assert box.threads.busy == 4
        with wave.open(str(recording.paths.audio)) as wav:
            assert wav.getnframes() == 160
        assert recording.paths.transcript.exists()
        for task in tools:
            task.cancel()
        await asyncio.gather(*tools, return_exceptions=True)
    box.close()


async def test_the_pool_runs_functions_with_the_callers_context_and_their_errors() -> None:
    threads = ToolThreads(2, name="t")
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("call CA1")
    assert await threads.call(var.get) == "call CA1"

    def fail() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        await threads.call(fail)
    threads.shutdown(wait=True)


def test_a_shut_down_pool_cancels_what_waits_and_takes_nothing_new() -> None:
    threads = ToolThreads(1)
    gate = threading.Event()
    running = threads.submit(gate.wait, 30)
    waiting = threads.submit(lambda: "never")
    threads.shutdown()
    assert waiting.cancelled()
    with pytest.raises(RuntimeError):
        threads.submit(lambda: None)
    gate.set()
    assert running.result(30) is True
    # Its threads are daemons: a function that never returns cannot hold up the exit.
    assert all(
        thread.daemon for thread in threading.enumerate() if thread.name.startswith("gateway-tool")
    )


def test_the_limits_are_read_from_the_tools_file() -> None:
    box = toolbox("[limits]\nmax_running_per_call = 3\nthreads = 5\n")
    assert (box.limits.max_running_per_call, box.limits.threads) == (3, 5)
    assert box.threads is not None
    assert box.threads.size == 5
    box.close()
    default = toolbox("")
    assert (default.limits.max_running_per_call, default.limits.threads) == (8, 16)
    default.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("limits = 3", "tools.toml: [limits] must be a table"),
        ("[limits]\nthreds = 3", "tools.toml: limits: unknown field 'threds'"),
        ("[limits]\nthreads = 0", "tools.toml: limits: threads must be between 1 and 256"),
        (
            "[limits]\nmax_running_per_call = 1.5",
            "tools.toml: limits: max_running_per_call must be a whole number",
        ),
    ],
)
def test_bad_limits_are_named(text: str, message: str) -> None:
    from gateway.tools import ToolsFileError

    with pytest.raises(ToolsFileError) as caught:
        toolbox(text)
    assert str(caught.value) == message

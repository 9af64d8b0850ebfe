"""`gateway call … --report call.html` against the real gateway process, the page rendered in
headless Chromium: both waveforms drawn, the caller's lines and the agent's audible stretches
placed on the time axis, the barge-in's clear among the events."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from gateway.emulator import LiveEmulator
from tests.browser.chromium import browser_missing, chromium
from tests.e2e.process import gateway_process

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))

RECORDING = Path(__file__).resolve().parents[1] / "recordings" / "interrupt.wav"


async def _call(base_url: str, cwd: Path, report: Path) -> tuple[int, str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "TWILIO_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "call", str(RECORDING), "--url", base_url,
        "--tail-s", "1", "--report", str(report),
        env=environ, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


REPORT_DOM = """return {
  title: document.querySelector('h1').textContent,
  waves: [...document.querySelectorAll('path.wave')].map(p => p.getAttribute('class')),
  drawn: [...document.querySelectorAll('path.wave')].map(p => p.getBBox().height),
  said: [...document.querySelectorAll('text.said')].map(t => t.getAttribute('class')),
  lines: [...document.querySelectorAll('tr.line')].map(tr => tr.children[1].textContent),
  events: [...document.querySelectorAll('tr.event')].map(tr => tr.classList[1]),
  scripts: document.scripts.length,
}"""


async def test_a_simulated_calls_report_renders(tmp_path: Path) -> None:
    page = tmp_path / "call.html"
    async with (
        LiveEmulator() as emulator,
        gateway_process(
            {"GATEWAY_LIVE_URL": emulator.plain_url, "GATEWAY_UNSIGNED_CARRIERS": "twilio"},
            tmp_path,
        ) as gateway,
    ):
        code, out, err = await _call(gateway.base_url, tmp_path, page)
        await gateway.stop()
    assert code == 0, out + err
    driver = await asyncio.to_thread(chromium)
    try:
        await asyncio.to_thread(driver.get, page.as_uri())
        dom = await asyncio.to_thread(driver.execute_script, REPORT_DOM)
    finally:
        await asyncio.to_thread(driver.quit)
    assert dom["title"].startswith("Simulated call CA")
    assert dom["waves"] == ["wave caller", "wave agent"]
    assert all(height > 10 for height in dom["drawn"])  # both channels have audible audio
    assert dom["scripts"] == 0
    # interrupt.wav's sidecar annotates two utterances; the echo of the first was heard.
    assert dom["lines"].count("caller") == 2
    assert "agent" in dom["lines"]
    assert sorted(set(dom["said"])) == ["said agent", "said caller"]
    assert "barge_in" in dom["events"]

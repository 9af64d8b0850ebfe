"""The web softphone in headless Chromium, calling the real gateway process on the emulator.

The page's microphone is Chromium's fake device playing tests/recordings/interrupt.wav (the
caller speaks again while the echo of its first words plays: a barge-in). Checked: the emulator
receives exactly the samples the page sent (count and peak), the page plays the echo back (its
own counters), the barge-in's clear empties the page's playback, a keypad digit reaches the
model as text, and the call ends cleanly on both sides.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from gateway.emulator import LiveEmulator
from tests.browser.chromium import browser_missing, chromium, fake_microphone
from tests.e2e.process import gateway_process, json_lines

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
SECRET = "phone-secret-0123456789abcdef"
WAIT_S = 60.0
REPORT_DOM = """return {
  title: document.querySelector('h1').textContent,
  waves: [...document.querySelectorAll('path.wave')].map(p => p.getAttribute('class')),
  pathLengths: [...document.querySelectorAll('path.wave')].map(p => p.getAttribute('d').length),
  samples: [...document.querySelectorAll('path.wave')].map(p => +p.dataset.samples),
  said: document.querySelectorAll('text.said').length,
  lines: [...document.querySelectorAll('tr.line')].map(tr =>
    [tr.children[1].textContent, tr.querySelector('.words').textContent]),
  events: [...document.querySelectorAll('tr.event')].map(tr => tr.classList[1]),
}"""


async def _until(driver: Any, script: str, check: Callable[[Any], bool]) -> Any:
    """Poll the page until `check(value of script)` holds (a condition, never a timing)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            value = await asyncio.to_thread(driver.execute_script, script)
            if check(value):
                return value
            await asyncio.sleep(0.2)


async def test_a_call_from_the_page_through_the_gateway(tmp_path: Path) -> None:
    microphone = fake_microphone(RECORDINGS / "interrupt.wav", tmp_path / "mic.wav", silence_s=3)
    async with LiveEmulator() as emulator:
        env = {
            "GATEWAY_LIVE_URL": emulator.plain_url,
            "GATEWAY_DEV_PHONE": "true",
            "GATEWAY_SECRET": SECRET,
            "GATEWAY_RECORD": "transcript,audio",
            "GATEWAY_RECORDINGS_DIR": str(tmp_path / "recordings"),
        }
        async with gateway_process(env, tmp_path) as gateway:
            driver = await asyncio.to_thread(chromium, microphone)
            try:
                await asyncio.to_thread(driver.get, gateway.base_url + "/phone")
                await _until(driver, "return document.getElementById('profile').length", bool)
                await asyncio.to_thread(driver.find_element("id", "call").click)
                counters = "return window.phone.counters"
                # The echo of the first words plays, then the caller's second words cut it.
                await _until(driver, counters, lambda c: c["clears"] >= 1 and c["playedSamples"])
                await asyncio.to_thread(
                    driver.execute_script,
                    "[...document.querySelectorAll('#keypad button')]"
                    ".find(b => b.textContent === '5').click()",
                )
                await _until(
                    driver, "return window.phone.events", lambda e: any("keypad 5" in x for x in e)
                )
                await _until(
                    driver,
                    "return window.phone.transcript.map(l => l.role)",
                    lambda roles: "agent" in roles,
                )
                await asyncio.to_thread(driver.find_element("id", "hangup").click)
                await _until(driver, "return window.phone.state", lambda s: s == "ended")
                page = await asyncio.to_thread(
                    driver.execute_script,
                    "return {counters: window.phone.counters, events: window.phone.events,"
                    " end: window.phone.endReason,"
                    " lines: window.phone.transcript.map(l => [l.role, l.text])}",
                )
                shown = await asyncio.to_thread(
                    driver.execute_script,
                    "return [...document.querySelectorAll('#transcript li')]"
                    ".map(li => li.className)",
                )
                # Once the call's recording is written, the page links to its report.
                link = await _until(
                    driver,
                    "const a = document.getElementById('report'); return a.hidden ? null : a.href",
                    bool,
                )
                await asyncio.to_thread(driver.get, link)
                report = await asyncio.to_thread(driver.execute_script, REPORT_DOM)
            finally:
                await asyncio.to_thread(driver.quit)
            async with httpx.AsyncClient() as client:
                metrics = (await client.get(gateway.base_url + "/metrics")).text
            code, stdout, _ = await gateway.stop()
    counters = page["counters"]
    [session] = emulator.recorder.sessions
    heard = session.audio()
    # The emulator received exactly what the page's microphone sent, at 16 kHz, untouched.
    assert session.audio_rates_hz == {16_000}
    assert session.audio_samples == counters["sentSamples"] > 16_000 * 3
    assert int(np.abs(heard.astype(np.int32)).max()) == counters["sentPeak"] > 1000
    rms_dbfs = 20 * np.log10(np.sqrt(np.mean(heard.astype(np.float64) ** 2)) / 32768)
    assert rms_dbfs > -40  # speech, not silence
    # The page played the echo back, and the barge-in's clear emptied what it had not played.
    assert counters["receivedPeak"] > 1000
    assert counters["playedSamples"] > 0
    assert counters["playedSamples"] + counters["clearedSamples"] <= counters["receivedSamples"]
    assert counters["clears"] >= 1
    assert counters["clearedSamples"] > 0
    assert "barge-in: playback cleared" in page["events"]
    assert counters["marksEchoed"] > 0
    # The keypad digit reached the model as text.
    assert any("pressed 5" in text for text in session.texts)
    # The live transcript showed both sides and the barge-in.
    roles = {role for role, _ in page["lines"]}
    assert roles == {"caller", "agent"}
    assert any(name in ("agent cut", "barge-in") for name in shown)
    # The call ended cleanly on both sides.
    assert page["end"] == "carrier stop"
    assert code == 0
    lines = json_lines(stdout)
    [ended] = [line for line in lines if line["event"] == "call.ended"]
    assert ended["carrier"] == "browser"
    assert ended["end_reason"] == "carrier stop"
    assert ended["interruptions"] >= 1
    assert ended["dtmf_digits"] == 1
    assert (ended["illegal_events"], ended["internal_errors"], ended["messages_ignored"]) == (
        0,
        0,
        0,
    )
    assert not [line for line in lines if line["level"] in ("warning", "error")], json.dumps(
        [line for line in lines if line["level"] in ("warning", "error")]
    )
    assert SECRET not in stdout
    # Counted like any carrier's call.
    assert 'gateway_calls_total{carrier="browser",outcome="carrier_stop"} 1.0' in metrics
    # The last call's report: both waveforms drawn, the transcript lines as heard on the axis
    # and in the table, the barge-in and the keypad digit among the events.
    [report_file] = (tmp_path / "recordings").glob("*/*.html")
    assert link.endswith("/phone/report")
    assert report["title"] == f"Call {ended['call_sid']}"
    assert report["waves"] == ["wave caller", "wave agent"]
    assert all(length > 1000 for length in report["pathLengths"])
    assert report["samples"][0] == report["samples"][1] > 0
    transcript = json.loads(report_file.with_suffix(".json").read_text())
    assert report["lines"] == [[line["role"], line["text"]] for line in transcript["lines"]]
    assert report["said"] == sum(1 for line in transcript["lines"] if line["at_ms"] is not None)
    assert {"barge_in", "dtmf"} <= set(report["events"])

#!/usr/bin/env python3
"""Screenshots of the web softphone and of a call report, for the docs (docs/images/).

Runs what the browser tests run: the Live emulator, the real `gateway serve` with the softphone
and recordings on, and Debian's headless Chromium with a fake microphone playing
tests/recordings/interrupt.wav. The page places a call (the caller speaks, the agent's echo is
cut by a barge-in, a keypad digit), hangs up, and is captured; then the call's report is.

    PYTHONPATH=. python scripts/screenshots.py [--out docs/images]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.emulator import LiveEmulator  # noqa: E402
from tests.browser.chromium import browser_missing, chromium, fake_microphone  # noqa: E402
from tests.e2e.process import gateway_process  # noqa: E402

WAIT_S = 60.0


async def _until(driver: Any, script: str) -> Any:
    """Poll the page until `script` gives a true value (a condition, not a timing)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            value = await asyncio.to_thread(driver.execute_script, script)
            if value:
                return value
            await asyncio.sleep(0.2)


def _capture(driver: Any, path: Path) -> None:
    """The whole page (beyond the window), as PNG."""
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    print(f"wrote {path}")


async def main(out: Path) -> int:
    missing = browser_missing()
    if missing is not None:
        print(f"screenshots: {missing}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        recording = ROOT / "tests" / "recordings" / "interrupt.wav"
        microphone = fake_microphone(recording, work / "mic.wav", silence_s=3)
        async with LiveEmulator() as emulator:
            env = {
                "GATEWAY_LIVE_URL": emulator.plain_url,
                "GATEWAY_DEV_PHONE": "true",
                "GATEWAY_RECORD": "transcript,audio",
                "GATEWAY_RECORDINGS_DIR": str(work / "recordings"),
                "GATEWAY_SECRET": "screenshots-secret-0123456789",
            }
            async with gateway_process(env, work) as gateway:
                driver = await asyncio.to_thread(chromium, microphone, width=1100, height=820)
                try:
                    await asyncio.to_thread(driver.get, gateway.base_url + "/phone")
                    await _until(driver, "return document.getElementById('profile').length")
                    await asyncio.to_thread(driver.find_element("id", "call").click)
                    await _until(driver, "return window.phone.counters.clears >= 1")
                    await _until(
                        driver, "return window.phone.transcript.some(l => l.role === 'agent')"
                    )
                    await asyncio.to_thread(
                        driver.execute_script,
                        "[...document.querySelectorAll('#keypad button')]"
                        ".find(b => b.textContent === '5').click()",
                    )
                    await _until(
                        driver, "return window.phone.events.some(e => e.includes('keypad'))"
                    )
                    await asyncio.to_thread(driver.find_element("id", "hangup").click)
                    await _until(driver, "return !document.getElementById('report').hidden")
                    await asyncio.to_thread(_capture, driver, out / "softphone.png")
                    await asyncio.to_thread(driver.get, gateway.base_url + "/phone/report")
                    await _until(driver, "return document.querySelectorAll('path.wave').length")
                    await asyncio.to_thread(_capture, driver, out / "call-report.png")
                finally:
                    await asyncio.to_thread(driver.quit)
                await gateway.stop()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    target = parser.parse_args().out
    target.mkdir(parents=True, exist_ok=True)
    sys.exit(asyncio.run(main(target)))

"""Headless Chromium for the browser tests and the screenshots (Debian's chromium and driver).

`chromium(...)` gives a selenium driver with a fake microphone fed from a WAV file, or None
with the reason when chromium or chromedriver is not installed (the tests then skip, saying so).
Nothing is downloaded: the project's scripts install both from Debian's packages.
"""

from __future__ import annotations

import shutil
import wave
from pathlib import Path
from typing import Any

import numpy as np

from gateway.sim.recording import load_recording

__all__ = ["CHROMEDRIVER", "browser_missing", "chromium", "fake_microphone"]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMEDRIVER = "/usr/bin/chromedriver"


def _chromium_binary() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if _chromium_binary() is None:
        return "chromium is not installed (apt-get install chromium)"
    if not Path(CHROMEDRIVER).exists() and shutil.which("chromedriver") is None:
        return "chromedriver is not installed (apt-get install chromium-driver)"
    return None


def fake_microphone(recording: Path, into: Path, *, silence_s: float = 0.0) -> Path:
    """The recording as the 16-bit PCM WAV Chromium's fake microphone plays (in a loop), with
    `silence_s` of silence after it."""
    loaded = load_recording(recording)
    samples = np.asarray(loaded.script.audio, dtype=np.int16)
    rate = 8_000  # the script is 8 kHz; the page's 16 kHz context resamples it
    samples = np.concatenate([samples, np.zeros(int(silence_s * rate), dtype=np.int16)])
    with wave.open(str(into), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return into


def chromium(microphone: Path | None = None, *, width: int = 1200, height: int = 800) -> Any:
    """A headless Chromium driver (the caller closes it with `quit()`)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    binary = _chromium_binary()
    if binary is not None:
        options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--autoplay-policy=no-user-gesture-required",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
    ):
        options.add_argument(argument)
    if microphone is not None:
        options.add_argument(f"--use-file-for-fake-audio-capture={microphone}")
    driver = shutil.which("chromedriver") or CHROMEDRIVER
    return webdriver.Chrome(options=options, service=Service(driver))

"""The command line: entry points, and the audio report as the smallest main job."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gateway import __version__
from gateway.cli import main


def test_version_via_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"gateway {__version__}"


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_audio_report_prints_every_conversion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audio-report"]) == 0
    out = capsys.readouterr().out
    for name in ["8k -> 16k", "24k -> 8k", "16k -> 24k", "24k -> 16k", "uplink", "downlink"]:
        assert name in out

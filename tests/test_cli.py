"""The command line: entry points, and the audio report as the smallest main job."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_log_settings_come_from_the_environment_then_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.cli import _log_settings

    env_file = tmp_path / ".env"
    env_file.write_text("LOG_FORMAT=console\nLOG_LEVEL=DEBUG\n", encoding="utf-8")
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    assert _log_settings(str(env_file)) == ("DEBUG", "console")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    assert _log_settings(str(env_file)) == ("WARNING", "console")
    assert _log_settings(None) == ("WARNING", "json")
    env_file.write_text('LOG_FORMAT="console\n', encoding="utf-8")  # broken: settings say so
    assert _log_settings(str(env_file)) == ("WARNING", "json")

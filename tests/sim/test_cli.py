"""`gateway call` options and exit statuses (the calls themselves: test_call.py)."""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path

import numpy as np
import pytest

from gateway.sim.cli import _options, add_call_arguments, parse_dtmf, run_call
from gateway.sim.script import DtmfPress
from gateway.sim.wav import write_pcm16_wav


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="gateway call")
    add_call_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults() -> None:
    args = parse("call.wav")
    assert args.audio == "call.wav"
    assert args.url == "http://127.0.0.1:8080"
    assert args.speed == 1.0
    assert args.dtmf is None
    assert args.tail_s is None
    assert (args.out, args.timeline, args.json_path) == (None, None, None)


def test_dtmf_option() -> None:
    args = parse("a.wav", "--dtmf", "5.0:2", "--dtmf", "0.25:#")
    assert args.dtmf == [DtmfPress(5000, "2"), DtmfPress(250, "#")]
    assert parse_dtmf("1:*") == DtmfPress(1000, "*")
    for bad in ["5", "x:1", "-1:2", "1:x", "1:12", "1:"]:
        with pytest.raises(argparse.ArgumentTypeError):
            parse_dtmf(bad)


def test_credentials_come_from_the_environment_unless_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "from-env")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "e" * 32)
    options = _options(parse("a.wav"))
    assert options.auth_token == "from-env"
    assert options.account_sid == "AC" + "e" * 32
    given = _options(parse("a.wav", "--auth-token", "tok", "--account-sid", "ACx", "--speed", "4"))
    assert (given.auth_token, given.account_sid, given.speed) == ("tok", "ACx", 4.0)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    unsigned = _options(parse("a.wav", "--call-sid", "CA1"))
    assert unsigned.auth_token is None
    assert unsigned.account_sid == "AC" + "0" * 32
    assert unsigned.call_sid == "CA1"


def test_unreadable_audio_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_call(parse(str(tmp_path / "missing.wav"))) == 2
    (tmp_path / "junk.wav").write_bytes(b"not a wav")
    assert run_call(parse(str(tmp_path / "junk.wav"))) == 2
    assert "RIFF" in capsys.readouterr().err


def test_a_bad_sidecar_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_pcm16_wav(tmp_path / "a.wav", np.zeros(800, np.int16), 8000)
    (tmp_path / "a.json").write_text(json.dumps({"utterances": [{"start_ms": "x"}]}))
    assert run_call(parse(str(tmp_path / "a.wav"))) == 2
    assert "start_ms must be a number" in capsys.readouterr().err


def test_no_gateway_listening_fails_the_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_pcm16_wav(tmp_path / "a.wav", np.zeros(800, np.int16), 8000)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    status = run_call(parse(str(tmp_path / "a.wav"), "--url", f"http://127.0.0.1:{port}"))
    assert status == 1
    assert "outcome: webhook_failed" in capsys.readouterr().out

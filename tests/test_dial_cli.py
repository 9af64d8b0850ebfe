"""`gateway dial`'s argument errors (the campaign itself: tests/e2e/test_dial_command.py)."""

from __future__ import annotations

import pytest

from gateway.cli import EXIT_CONFIG, main


def test_dial_needs_a_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GATEWAY_API_KEY", raising=False)
    assert main(["dial", "+15550104242"]) == EXIT_CONFIG
    assert "GATEWAY_API_KEY" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["dial"], "needs a number or --csv"),
        (["dial", "+15550104242", "--rate", "fast"], "a rate is N/s"),
        (["dial", "+15550104242", "--var", "oops"], "name=value"),
        (["dial", "--csv", "/nonexistent/list.csv"], "No such file"),
    ],
)
def test_dial_argument_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--api-key", "k" * 20]) == EXIT_CONFIG
    assert message in capsys.readouterr().err

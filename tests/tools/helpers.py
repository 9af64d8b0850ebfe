"""Shared test helpers: a toolbox from TOML text, a context, a fake clock, JSON log capture."""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
import structlog

from gateway.live.events import FunctionCall
from gateway.log import configure
from gateway.tools import Toolbox, ToolContext, parse_toolbox


class FakeClock:
    """Seconds that move only when told (each reading advances by `step`)."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = 100.0
        self.step = step

    def __call__(self) -> float:
        value = self.now
        self.now += self.step
        return value


def toolbox(text: str, environ: Mapping[str, str] | None = None, **kwargs: Any) -> Toolbox:
    return parse_toolbox(tomllib.loads(text), environ or {}, label="tools.toml", **kwargs)


def context(http: httpx.AsyncClient, **fields: Any) -> ToolContext:
    values: dict[str, Any] = {
        "carrier": "twilio",
        "carrier_call_id": "CA" + "a" * 32,
        "from_number": "+15551230002",
        "to_number": "+15557654321",
        **fields,
    }
    return ToolContext(http, **values)


def call(name: str, call_id: str = "fc-1", /, **args: Any) -> FunctionCall:
    return FunctionCall(call_id, name, args)


class Logs:
    """The JSON lines the gateway's real logging chain (with redaction) printed so far."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self.text = ""

    def lines(self) -> list[dict[str, Any]]:
        self.text += self._capsys.readouterr().out
        return [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["event"] == name]


class _CurrentStdout:
    """Writes to whatever sys.stdout is now (pytest swaps it between setup and call)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def capture_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Logs]:
    configure("DEBUG", "json")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=_CurrentStdout()))  # type: ignore[arg-type]
    try:
        yield Logs(capsys)
    finally:
        structlog.reset_defaults()

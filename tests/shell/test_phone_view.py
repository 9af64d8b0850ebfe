"""What the softphone is shown of a call: exact view messages from bridge steps."""

from __future__ import annotations

import json
from typing import Any

from gateway.carriers.browser.translator import BrowserTranslator
from gateway.core.events import (
    CallerAudio,
    ClearPlayback,
    DtmfPressed,
    EndCall,
    Note,
    PlayAudio,
    RunTool,
    ToolFinished,
)
from gateway.live.events import FunctionCall, InputTranscript, OutputTranscript, TurnComplete
from gateway.shell.phone_view import FIGURES, PhoneView


def _view() -> PhoneView:
    figures = {"uplink_p50_ms": 0.4, "interruptions": 1, "other": 7}
    return PhoneView(BrowserTranslator("n"), lambda: figures)


def _decoded(messages: list[str]) -> list[dict[str, Any]]:
    return [json.loads(message) for message in messages]


def test_transcripts_digits_and_barge_ins() -> None:
    view = _view()
    assert view.observe(CallerAudio(b"\x00\x00"), [PlayAudio(b"\x00" * 960)], 0.0) == []
    assert view.observe(InputTranscript("hel", interim=True), [], 0.0) == []
    assert _decoded(view.observe(InputTranscript("hello"), [], 0.0)) == [
        {"type": "view", "event": "transcript", "role": "caller", "text": "hello"}
    ]
    assert _decoded(view.observe(OutputTranscript("Hi"), [], 0.0)) == [
        {"type": "view", "event": "transcript", "role": "agent", "text": "Hi"}
    ]
    assert _decoded(view.observe(DtmfPressed("7"), [ClearPlayback()], 0.0)) == [
        {"type": "view", "event": "dtmf", "digit": "7"},
        {"type": "view", "event": "barge_in"},
    ]


def test_tools_show_name_outcome_and_duration_never_arguments() -> None:
    view = _view()
    call = FunctionCall("c1", "lookup", {"card": "4111"})
    started = view.observe(TurnComplete(), [RunTool(call)], 1000.0)
    assert _decoded(started)[1] == {
        "type": "view",
        "event": "tool_started",
        "id": "c1",
        "name": "lookup",
    }
    assert "4111" not in "".join(started)
    finished = view.observe(ToolFinished("c1", "lookup", {"output": "x"}, "error"), [], 1250.5)
    assert _decoded(finished) == [
        {
            "type": "view",
            "event": "tool_finished",
            "id": "c1",
            "name": "lookup",
            "outcome": "error",
            "duration_ms": 250.5,
        }
    ]


def test_figures_handovers_and_the_end() -> None:
    view = _view()
    picked = {name: None for name in FIGURES} | {"uplink_p50_ms": 0.4, "interruptions": 1}
    assert _decoded(view.observe(TurnComplete(), [], 0.0)) == [
        {"type": "view", "event": "figures", **picked}
    ]
    handover = Note("live.handover", {"gap_ms": 85.2, "reason": "go_away"})
    assert _decoded(view.observe(CallerAudio(b""), [handover], 0.0)) == [
        {"type": "view", "event": "handover", "gap_ms": 85.2}
    ]
    assert _decoded(view.observe(CallerAudio(b""), [EndCall("carrier stop")], 0.0)) == [
        {"type": "view", "event": "ended", "reason": "carrier stop", **picked}
    ]

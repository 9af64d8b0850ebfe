"""Lone surrogates are cleaned where text enters: gateway.text, and Live's parser using it."""

from __future__ import annotations

import json

import pytest

from gateway.core.events import ToolFinished
from gateway.core.tool_calls import result_as_text
from gateway.live.events import FunctionCall, InputTranscript, ModelText, OutputTranscript, ToolCall
from gateway.live.protocol import encode_client_content, parse_server_message
from gateway.text import clean_json, clean_text, may_hold_surrogates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("café ✓ 東京 😀", "café ✓ 東京 😀"),
        ("\ud800", "\ufffd"),
        ("caf\ud83d", "caf\ufffd"),  # an emoji cut after its first half
        ("\ude00ok", "\ufffdok"),
        ("\ud83d\ude00", "😀"),  # a whole pair held as two code points is the character
        ("\ud800\ud800x", "\ufffd\ufffdx"),
    ],
)
def test_clean_text_replaces_each_lone_surrogate(text: str, expected: str) -> None:
    cleaned = clean_text(text)
    assert cleaned == expected
    cleaned.encode("utf-8")  # never raises


def test_clean_text_returns_clean_text_itself() -> None:
    text = "déjà vu " * 10
    assert clean_text(text) is text


def test_clean_json_cleans_keys_and_values_at_any_depth_and_keeps_clean_data() -> None:
    dirty = {"a": ["x", {"\udc00k": ("\ud800", 1, None, True)}], "n": 1.5}
    assert clean_json(dirty) == {"a": ["x", {"\ufffdk": ("\ufffd", 1, None, True)}], "n": 1.5}
    assert dirty["a"][1] == {"\udc00k": ("\ud800", 1, None, True)}  # the input is not changed
    clean = {"a": ["x", {"k": [1, "é"]}]}
    assert clean_json(clean) is clean


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (b'{"a":"\\ud800"}', True),
        (b'{"a":"\\uDC00"}', True),
        (b'{"a":"\\u00e9"}', False),
        ('{"a":"\\ud800"}', True),
        ('{"a":"\ud800"}', True),  # a str frame built in-process may hold one itself
        ('{"a":"plain"}', False),
    ],
)
def test_may_hold_surrogates(frame: str | bytes, expected: bool) -> None:
    assert may_hold_surrogates(frame) is expected


def _frame(message: dict[str, object]) -> bytes:
    # json.dumps escapes a lone surrogate as "\ud800" (ensure_ascii): valid JSON, as Live sends.
    return json.dumps(message).encode("ascii")


def test_live_transcripts_and_text_hold_no_lone_surrogate() -> None:
    frame = _frame(
        {
            "serverContent": {
                "modelTurn": {"parts": [{"text": "caf\ud83d"}]},
                "outputTranscription": {"text": "agent \ud800"},
                "inputTranscription": {"text": "caller \udfff", "finished": True},
            }
        }
    )
    assert parse_server_message(frame) == [
        ModelText("caf\ufffd"),
        OutputTranscript("agent \ufffd"),
        InputTranscript("caller \ufffd", finished=True),
    ]
    assert parse_server_message(frame.decode()) == parse_server_message(frame)


def test_a_live_tool_call_holds_no_lone_surrogate() -> None:
    frame = _frame(
        {
            "toolCall": {
                "functionCalls": [
                    {"id": "c\ud8001", "name": "lookup", "args": {"q\udc00": ["\ud800x"]}}
                ]
            }
        }
    )
    [event] = parse_server_message(frame)
    assert event == ToolCall((FunctionCall("c\ufffd1", "lookup", {"q\ufffd": ["\ufffdx"]}),))


def test_a_frame_with_whole_pairs_is_left_as_it_was() -> None:
    frame = _frame({"serverContent": {"outputTranscription": {"text": "ok 😀"}}})
    assert b"\\ud83d\\ude00" in frame
    assert parse_server_message(frame) == [OutputTranscript("ok 😀")]


def test_what_was_cleaned_can_go_back_to_live_as_a_recap_or_result() -> None:
    frame = _frame({"serverContent": {"inputTranscription": {"text": "hi \ud800"}}})
    [heard] = parse_server_message(frame)
    assert isinstance(heard, InputTranscript)
    encode_client_content([("user", heard.text)], turn_complete=False).encode("utf-8")
    finished = ToolFinished("c1", "lookup", {"output": heard.text})
    result_as_text(finished).encode("utf-8")

"""Vonage answer and event webhooks: GET query or POST JSON."""

from __future__ import annotations

import json

from gateway.carriers.vonage.webhook import CallEvent, parse_answer, parse_event


def test_a_get_answer() -> None:
    call = parse_answer([("uuid", "u1"), ("from", "4477"), ("to", "4478")], b"")
    assert call is not None
    assert (call.call_id, call.from_number, call.to_number) == ("u1", "4477", "4478")


def test_a_post_answer_reads_the_json_body() -> None:
    body = json.dumps({"uuid": "u2", "from": "1", "to": "2", "conversation_uuid": "c"}).encode()
    call = parse_answer([("uuid", "ignored")], body)
    assert call is not None
    assert call.call_id == "u2"


def test_an_answer_without_uuid_is_none() -> None:
    assert parse_answer([("from", "1")], b"") is None
    assert parse_answer([], b"not json") is None


def test_events() -> None:
    body = json.dumps({"uuid": "u1", "status": "completed", "reason": "hangup"}).encode()
    assert parse_event([], body) == CallEvent("u1", "completed", "hangup")
    assert parse_event([], b"[]") == CallEvent("", "")

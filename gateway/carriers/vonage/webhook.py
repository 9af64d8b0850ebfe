"""Vonage's answer and event webhooks as typed facts (pure; field names stay here).

The answer webhook is a GET with query parameters by default, or a POST with a JSON body when
the application's `answer_url` is set to POST [doc]; both carry `uuid` (the call leg, which the
REST API addresses), `conversation_uuid`, `from` and `to`. Event webhooks are JSON POSTs with
`uuid` and `status` (`started`, `ringing`, `answered`, `completed`, ...). Parsing never raises:
an answer without a `uuid` is None.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.carriers.plugin import VoiceWebhook

__all__ = ["CallEvent", "parse_answer", "parse_event", "webhook_fields"]


@dataclass(frozen=True)
class CallEvent:
    """One event webhook: a call leg's status change (logged)."""

    call_id: str
    status: str
    detail: str = ""


def webhook_fields(query: Sequence[tuple[str, str]], body: bytes) -> dict[str, str]:
    """The webhook's string fields: the JSON body's when it has one, else the query's."""
    fields: dict[str, str] = {}
    decoded: Any = None
    if body.strip():
        try:
            decoded = json.loads(body)
        except (ValueError, RecursionError):
            decoded = None
    if isinstance(decoded, dict):
        fields = {k: v for k, v in decoded.items() if isinstance(v, str)}
    else:
        for name, value in query:
            fields.setdefault(name, value)
    return fields


def parse_answer(query: Sequence[tuple[str, str]], body: bytes) -> VoiceWebhook | None:
    """The call an answer webhook asks us to answer, or None without a `uuid`."""
    fields = webhook_fields(query, body)
    call_id = fields.get("uuid", "")
    if not call_id:
        return None
    return VoiceWebhook(
        call_id=call_id,
        to_number=fields.get("to", ""),
        from_number=fields.get("from", ""),
        direction=fields.get("direction", "inbound"),
    )


def parse_event(query: Sequence[tuple[str, str]], body: bytes) -> CallEvent:
    fields = webhook_fields(query, body)
    detail = fields.get("reason") or fields.get("detail") or ""
    return CallEvent(fields.get("uuid", ""), fields.get("status", ""), detail)

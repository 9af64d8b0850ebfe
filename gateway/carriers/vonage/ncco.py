"""Vonage Call Control Objects (NCCOs): the answer that streams a call, and what transfers it.

protocols.md C.3 and the NCCO reference: an NCCO is a JSON array of actions. The answer to a
call is one `connect` to a `websocket` endpoint with the L16 `content-type` and `headers` (at
most 512 bytes of them, which Vonage flattens into `websocket:connected`); this is how the call's
UUID and its stream token reach the media route. A transfer is a `connect` to a `phone` number
(E.164 digits without `+`) or a `sip` URI, after an optional `talk`; a hang-up with a goodbye is
a `talk` alone (the call ends when the NCCO runs out).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from gateway.carriers.vonage.translator import content_type
from gateway.core.events import CallAction, Transfer

__all__ = ["MAX_HEADER_BYTES", "action_ncco", "answer_ncco", "connect_endpoint", "talk"]

MAX_HEADER_BYTES: Final = 512
"""Vonage's documented limit on a websocket endpoint's `headers` (serialised)."""


def talk(text: str) -> dict[str, Any]:
    return {"action": "talk", "text": text}


def answer_ncco(stream_url: str, rate_hz: int, headers: Mapping[str, str]) -> str:
    """The answer webhook's body: connect the call to the media websocket.

    Raises ValueError when `headers` exceed Vonage's 512-byte limit.
    """
    size = len(json.dumps(dict(headers), separators=(",", ":")).encode("utf-8"))
    if size > MAX_HEADER_BYTES:
        raise ValueError(f"websocket headers are {size} bytes, Vonage allows {MAX_HEADER_BYTES}")
    endpoint = {
        "type": "websocket",
        "uri": stream_url,
        "content-type": content_type(rate_hz),
        "headers": dict(headers),
    }
    return json.dumps([{"action": "connect", "endpoint": [endpoint]}], separators=(",", ":"))


def connect_endpoint(target: str) -> dict[str, str]:
    """The `connect` endpoint for a configured transfer target (E.164 number or SIP URI)."""
    if target.startswith(("sip:", "sips:")):
        return {"type": "sip", "uri": target}
    return {"type": "phone", "number": target.removeprefix("+")}


def action_ncco(action: CallAction, *, from_number: str | None = None) -> list[dict[str, Any]]:
    """The NCCO that performs `action` on a live call (empty for a plain hang-up)."""
    actions: list[dict[str, Any]] = []
    if action.announcement:
        actions.append(talk(action.announcement))
    if isinstance(action, Transfer):
        connect: dict[str, Any] = {
            "action": "connect",
            "endpoint": [connect_endpoint(action.target)],
        }
        if from_number:
            connect["from"] = from_number.removeprefix("+")
        actions.append(connect)
    return actions

"""Telnyx call control: transfer and hang-up as `RestRequest`s (pure).

protocols.md C.1, telnyx-python `calls/actions` (`action_hangup_params`, `action_transfer_params`)
and pipecat's Telnyx serializer: Call Control commands address the call by its
`call_control_id` (the media stream's `start.call_control_id`, which TeXML calls have too):

* hang-up: `POST {api_base}/v2/calls/{call_control_id}/actions/hangup`, body `{}` plus
  `command_id`;
* transfer: `POST {api_base}/v2/calls/{call_control_id}/actions/transfer` with `{"to": target}`
  plus `command_id`;

authenticated by `Authorization: Bearer <API key>`, JSON bodies. `command_id` is Telnyx's
idempotency key: a retried request (same `RestRequest`) is not performed twice.

Call Control has no "say this first" on these two commands (that would be a separate `speak`
command and its `call.speak.ended` webhook), so an action's `announcement` is not spoken on
Telnyx; the request's description says so, and docs/carriers/telnyx.md lists it.

Answers: 2xx done; 422 with error code `90018` (or 404) the call had already ended; 408, 429
and 5xx retry; the rest (401/403 key, other 4xx) fail.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import quote

from gateway.carriers.control import ControlOutcome, RestRequest
from gateway.core.events import CallAction, HangUp, Transfer

__all__ = ["ALREADY_ENDED_CODE", "DEFAULT_API_BASE", "TelnyxCallControl"]

DEFAULT_API_BASE: Final = "https://api.telnyx.com"
ALREADY_ENDED_CODE: Final = "90018"
"""Telnyx's error code for a command on a call that has already ended."""


def _error_codes(body: bytes) -> set[str]:
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        return set()
    errors = decoded.get("errors") if type(decoded) is dict else None
    if type(errors) is not list:
        return set()
    return {str(e.get("code")) for e in errors if type(e) is dict}


class TelnyxCallControl:
    """Builds the Call Control requests for one API key (`CallControl`)."""

    carrier = "telnyx"

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str = DEFAULT_API_BASE,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._api_key = api_key
        self._api_base = api_base.rstrip("/")
        self._new_id = new_id

    def __repr__(self) -> str:  # never show the key
        return f"TelnyxCallControl(api_base={self._api_base!r}, api_key=***)"

    def request(self, call_id: str, action: CallAction) -> RestRequest:
        body: dict[str, Any] = {}
        if isinstance(action, Transfer):
            command, body["to"] = "transfer", action.target
            what = f"transfer to {action.label or 'the configured number'}"
        elif isinstance(action, HangUp):
            command, what = "hangup", "hang-up"
        else:
            raise TypeError(f"not a call action: {type(action).__name__}")
        body["command_id"] = self._new_id()
        if action.announcement:
            what += " (announcement not spoken: Call Control has none for this command)"
        return RestRequest(
            method="POST",
            url=f"{self._api_base}/v2/calls/{quote(call_id, safe=':')}/actions/{command}",
            headers={
                "Authorization": f"Bearer {self._api_key}",
                "Accept": "application/json",
            },
            json=body,
            description=f"telnyx call control: {what}",
        )

    def outcome(self, status: int, body: bytes) -> ControlOutcome:
        if 200 <= status < 300:
            return ControlOutcome.DONE
        if status == 404 or (status == 422 and ALREADY_ENDED_CODE in _error_codes(body)):
            return ControlOutcome.ALREADY_ENDED
        if status in (408, 429) or status >= 500:
            return ControlOutcome.RETRY
        return ControlOutcome.FAILED

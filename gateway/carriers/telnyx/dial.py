"""Telnyx dial-out through the TeXML Calls API (pure; docs/outbound.md) [unverified].

`POST {api_base}/v2/texml/Accounts/{account_sid}/Calls`, `Authorization: Bearer
TELNYX_API_KEY`, a JSON body (Telnyx's OpenAPI "Initiate an outbound call",
`InitiateTexmlCall`): `ApplicationSid` (the TeXML application), `To`, `From`, `Url` (our
`/telnyx/voice`, answered with TeXML `<Connect><Stream>` as for an inbound call),
`StatusCallback` and `StatusCallbackEvent`, `Timeout`; with machine detection
`MachineDetection=DetectMessageEnd`, `AsyncAmd=true`, `AsyncAmdStatusCallback` (Telnyx's
"TeXML Answering Machine Detection": asynchronous mode). TeXML callbacks are Twilio-shaped
forms (`CallSid`, `CallStatus`, `AnsweredBy`), signed with Telnyx's Ed25519 key like its voice
webhooks. The answer's call id is read from `call_sid` (or `sid`, or under `data`): the
documented example shows only `from`, `to` and `status`, so which field carries it was not
verified.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from gateway.carriers.dial import (
    DialProgress,
    MachineDetection,
    PlaceCall,
    Placed,
    PlaceFailed,
    PlaceRequest,
)
from gateway.carriers.plugin import Webhook
from gateway.carriers.twilio.dial import form_progress

__all__ = ["TelnyxDialer"]

_ID: Final = re.compile(r"[A-Za-z0-9:_-]{2,128}")


def _call_id(parsed: Any) -> str | None:
    if isinstance(parsed, dict):
        for key in ("call_sid", "sid", "CallSid", "call_control_id"):
            value = parsed.get(key)
            if isinstance(value, str) and _ID.fullmatch(value):
                return value
        return _call_id(parsed.get("data"))
    return None


class TelnyxDialer:
    carrier = "telnyx"
    detects_greeting_end = True

    def __init__(self, api_key: str, account_sid: str, application_sid: str, api_base: str):
        if not api_key or not _ID.fullmatch(account_sid) or not _ID.fullmatch(application_sid):
            raise ValueError(
                "Telnyx dial-out needs TELNYX_API_KEY, TELNYX_ACCOUNT_SID, TELNYX_TEXML_APP_ID"
            )
        self._authorization = f"Bearer {api_key}"
        self._account = account_sid
        self._application = application_sid
        self._base = api_base.rstrip("/")

    def __repr__(self) -> str:
        return f"TelnyxDialer(account={self._account!r}, api_key=***)"

    def place(self, call: PlaceCall) -> PlaceRequest:
        body: dict[str, Any] = {
            "ApplicationSid": self._application,
            "To": call.to_number,
            "From": call.from_number,
            "Url": call.answer_url,
            "UrlMethod": "POST",
            "StatusCallback": call.status_url,
            "StatusCallbackMethod": "POST",
            "StatusCallbackEvent": "initiated ringing answered completed",
            "Timeout": call.ring_timeout_s,
        }
        if call.machine_detection is not MachineDetection.OFF:
            body |= {
                "MachineDetection": "DetectMessageEnd",
                "AsyncAmd": True,
                "AsyncAmdStatusCallback": call.machine_url,
                "AsyncAmdStatusCallbackMethod": "POST",
            }
        return PlaceRequest(
            method="POST",
            url=f"{self._base}/v2/texml/Accounts/{self._account}/Calls",
            headers={"Authorization": self._authorization, "Accept": "application/json"},
            json=body,
            description="telnyx texml call create",
        )

    def placed(self, status: int, body: bytes) -> Placed | PlaceFailed:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if 200 <= status < 300:
            call_id = _call_id(parsed)
            if call_id is not None:
                return Placed(call_id)
            return PlaceFailed(f"telnyx answered {status} without a call id", 502)
        return PlaceFailed(f"telnyx refused the call (HTTP {status})", 502)

    def progress(self, webhook: Webhook) -> DialProgress | None:
        return form_progress(webhook)

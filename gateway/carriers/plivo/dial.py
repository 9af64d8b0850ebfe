"""Plivo dial-out through the Call API (pure; docs/outbound.md) [unverified].

`POST {api_base}/v1/Account/{auth_id}/Call/`, HTTP Basic `auth_id:auth_token`, JSON (as
plivo-python's `calls.create` sends it): `from`, `to` (digits, no `+`), `answer_url` (our
`/plivo/voice`, answered with `<Stream>` as for an inbound call), `ring_url` and `hangup_url`
(progress), `ring_timeout`; with machine detection `machine_detection=true` and
`machine_detection_url`. The answer is 201 `{"request_uuid": …}`: not the call's `CallUUID`,
which the callbacks carry beside `RequestUUID` (the ring callback first, so the registry knows
the call before its answer webhook). Callbacks are forms signed with `X-Plivo-Signature-V3`:
`CallStatus` (`ringing`, `in-progress`, `completed`, `busy`, `no-answer`, `timeout`, `failed`,
`cancel`), machine detection's `Machine` (`true`/`false`). Plivo's detection says machine or
not, without the end of the greeting: `leave_voicemail` is refused for Plivo.
"""

from __future__ import annotations

import json
import re
from base64 import b64encode
from typing import Any, Final

from gateway.carriers.dial import (
    Answerer,
    CallProgress,
    DialProgress,
    MachineDetection,
    PlaceCall,
    Placed,
    PlaceFailed,
    PlaceRequest,
)
from gateway.carriers.messages import bounded_id
from gateway.carriers.plugin import Webhook

__all__ = ["PlivoDialer"]

_UUID: Final = re.compile(r"[A-Za-z0-9-]{2,64}")
_STATUS: Final = {
    "ringing": CallProgress.RINGING,
    "in-progress": CallProgress.ANSWERED,
    "completed": CallProgress.COMPLETED,
    "busy": CallProgress.BUSY,
    "no-answer": CallProgress.NO_ANSWER,
    "timeout": CallProgress.NO_ANSWER,
    "failed": CallProgress.FAILED,
    "cancel": CallProgress.CANCELED,
}


class PlivoDialer:
    carrier = "plivo"
    detects_greeting_end = False

    def __init__(self, auth_id: str, auth_token: str, api_base: str) -> None:
        if not _UUID.fullmatch(auth_id or "") or not auth_token:
            raise ValueError("Plivo dial-out needs PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN")
        self._auth_id = auth_id
        self._authorization = "Basic " + b64encode(f"{auth_id}:{auth_token}".encode()).decode()
        self._base = api_base.rstrip("/")

    def __repr__(self) -> str:
        return f"PlivoDialer(auth_id={self._auth_id!r}, auth_token=***)"

    def place(self, call: PlaceCall) -> PlaceRequest:
        body: dict[str, Any] = {
            "from": call.from_number.lstrip("+"),
            "to": call.to_number.lstrip("+"),
            "answer_url": call.answer_url,
            "answer_method": "POST",
            "ring_url": call.status_url,
            "ring_method": "POST",
            "hangup_url": call.status_url,
            "hangup_method": "POST",
            "ring_timeout": call.ring_timeout_s,
        }
        if call.machine_detection is not MachineDetection.OFF:
            body |= {
                "machine_detection": "true",
                "machine_detection_url": call.machine_url,
                "machine_detection_method": "POST",
            }
        return PlaceRequest(
            method="POST",
            url=f"{self._base}/v1/Account/{self._auth_id}/Call/",
            headers={"Authorization": self._authorization, "Accept": "application/json"},
            json=body,
            description="plivo call create",
        )

    def placed(self, status: int, body: bytes) -> Placed | PlaceFailed:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        request = parsed.get("request_uuid") if isinstance(parsed, dict) else None
        if isinstance(request, list) and request:  # several destinations: one uuid each
            request = request[0]
        if 200 <= status < 300:
            if isinstance(request, str) and _UUID.fullmatch(request):
                return Placed(request)
            return PlaceFailed(f"plivo answered {status} without a request_uuid", 502)
        return PlaceFailed(f"plivo refused the call (HTTP {status})", 502)

    def progress(self, webhook: Webhook) -> DialProgress | None:
        form = dict(webhook.form())
        request = form.get("RequestUUID", "")
        leg = form.get("CallUUID", "")
        if not _UUID.fullmatch(request):
            return None
        machine = form.get("Machine", "").lower()
        who = {"true": Answerer.MACHINE, "false": Answerer.PERSON}.get(machine)
        status = _STATUS.get(form.get("CallStatus", "").lower())
        if status is None and who is None:
            return None
        leg_id = bounded_id(leg) if _UUID.fullmatch(leg) else None
        return DialProgress(bounded_id(request), status, who, False, leg_id)

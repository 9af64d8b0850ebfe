"""Vonage dial-out through the Voice API (pure; docs/outbound.md) [unverified].

`POST {api_base}/v1/calls`, `Authorization: Bearer <JWT>` (the application JWT of
`vonage/rest.py`), a JSON body as the Vonage Python SDK's `create_call` sends it: `to`
(`[{"type": "phone", "number": "1555…"}]`, digits), `from`, `answer_url` (our
`/vonage/voice`, fetched with GET and answered with the NCCO that connects the WebSocket, as
for an inbound call), `event_url` (progress), `ringing_timer`; with machine detection
`advanced_machine_detection` `{"behavior": "continue", "mode": "detect_beep"}`. The answer is
201 `{"uuid": …, "status": "started", …}`. Progress comes to the event URL as signed JSON:
`status` `started`, `ringing`, `answered`, `completed`, `busy`, `timeout`, `unanswered`,
`failed`, `rejected`, `cancelled`; the detection's verdict as `status` `human` or `machine`,
and the end of a machine's greeting as `sub_state` `beep_start` (with `detect_beep`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
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
from gateway.carriers.vonage.rest import application_jwt

__all__ = ["VonageDialer"]

_UUID: Final = re.compile(r"[A-Za-z0-9-]{2,64}")
_STATUS: Final = {
    "started": CallProgress.QUEUED,
    "ringing": CallProgress.RINGING,
    "answered": CallProgress.ANSWERED,
    "completed": CallProgress.COMPLETED,
    "busy": CallProgress.BUSY,
    "timeout": CallProgress.NO_ANSWER,
    "unanswered": CallProgress.NO_ANSWER,
    "failed": CallProgress.FAILED,
    "rejected": CallProgress.FAILED,
    "cancelled": CallProgress.CANCELED,
}


class VonageDialer:
    carrier = "vonage"
    detects_greeting_end = True

    def __init__(
        self,
        application_id: str,
        private_key: str,
        api_base: str,
        *,
        clock_s: Callable[[], float],
        new_id: Callable[[], str],
    ) -> None:
        if not application_id or not private_key:
            raise ValueError("Vonage dial-out needs VONAGE_APPLICATION_ID and its private key")
        self._application_id = application_id
        self._private_key = private_key
        self._base = api_base.rstrip("/")
        self._clock_s = clock_s
        self._new_id = new_id

    def __repr__(self) -> str:
        return f"VonageDialer(application_id={self._application_id!r}, private_key=***)"

    def place(self, call: PlaceCall) -> PlaceRequest:
        body: dict[str, Any] = {
            "to": [{"type": "phone", "number": call.to_number.lstrip("+")}],
            "from": {"type": "phone", "number": call.from_number.lstrip("+")},
            "answer_url": [call.answer_url],
            "answer_method": "GET",
            "event_url": [call.status_url],
            "event_method": "POST",
            "ringing_timer": call.ring_timeout_s,
        }
        if call.machine_detection is not MachineDetection.OFF:
            body["advanced_machine_detection"] = {"behavior": "continue", "mode": "detect_beep"}
        token = application_jwt(
            self._application_id, self._private_key, self._clock_s(), self._new_id()
        )
        return PlaceRequest(
            method="POST",
            url=f"{self._base}/v1/calls",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            json=body,
            description="vonage call create",
        )

    def placed(self, status: int, body: bytes) -> Placed | PlaceFailed:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        uuid = parsed.get("uuid") if isinstance(parsed, dict) else None
        if 200 <= status < 300:
            if isinstance(uuid, str) and _UUID.fullmatch(uuid):
                return Placed(uuid)
            return PlaceFailed(f"vonage answered {status} without a call uuid", 502)
        return PlaceFailed(f"vonage refused the call (HTTP {status})", 502)

    def progress(self, webhook: Webhook) -> DialProgress | None:
        try:
            event = json.loads(webhook.body)
        except ValueError:
            return None
        if not isinstance(event, dict):
            return None
        uuid = event.get("uuid")
        status = event.get("status")
        if not isinstance(uuid, str) or not _UUID.fullmatch(uuid) or not isinstance(status, str):
            return None
        if status in ("human", "machine"):
            who = Answerer.PERSON if status == "human" else Answerer.MACHINE
            ended = status == "machine" and event.get("sub_state") == "beep_start"
            return DialProgress(bounded_id(uuid), None, who, ended)
        progress = _STATUS.get(status)
        return None if progress is None else DialProgress(bounded_id(uuid), progress)

"""Twilio dial-out: the Calls API's create request and its callbacks (pure; docs/outbound.md).

`POST {api_base}/2010-04-01/Accounts/{AccountSid}/Calls.json`, HTTP Basic, form-encoded (as
twilio-python's `CallList.create` sends it): `To`, `From`, `Url` (the answer webhook: our
`/twilio/voice`, which answers `<Connect><Stream>` as for an inbound call), `StatusCallback`
with `StatusCallbackEvent` repeated (`initiated ringing answered completed`), `Timeout`; with
machine detection `MachineDetection=DetectMessageEnd`, `AsyncAmd=true` and
`AsyncAmdStatusCallback`: the call is bridged at once and the verdict (`AnsweredBy`:
`human`, `machine_end_beep`, `machine_end_silence`, `machine_end_other`, `fax`, `unknown`)
comes later, once the greeting ended. The answer is 201 with the call resource (`sid`).

Status callbacks carry `CallSid` and `CallStatus` (`queued`, `initiated`, `ringing`,
`in-progress`, `completed`, `busy`, `no-answer`, `failed`, `canceled`). SignalWire's LaML API
takes the same requests under its space URL (`signalwire/plugin.py`).
"""

from __future__ import annotations

import json
import re
from base64 import b64encode
from typing import Final

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

__all__ = ["TwilioDialer", "answered_by", "form_progress"]

_SID: Final = re.compile(r"[A-Za-z0-9:_-]{2,128}")
"""Call ids: Twilio's `CA…`, SignalWire's UUIDs, Telnyx's `v3:…` call control ids."""
_STATUS: Final = {
    "queued": CallProgress.QUEUED,
    "initiated": CallProgress.QUEUED,
    "ringing": CallProgress.RINGING,
    "in-progress": CallProgress.ANSWERED,
    "answered": CallProgress.ANSWERED,
    "completed": CallProgress.COMPLETED,
    "busy": CallProgress.BUSY,
    "no-answer": CallProgress.NO_ANSWER,
    "failed": CallProgress.FAILED,
    "canceled": CallProgress.CANCELED,
}
_GREETING_ENDED: Final = ("machine_end_beep", "machine_end_silence", "machine_end_other")


def answered_by(value: str) -> tuple[Answerer | None, bool]:
    """Twilio's `AnsweredBy` read: who, and whether the greeting has ended."""
    if not value:
        return None, False
    if value == "human":
        return Answerer.PERSON, False
    if value.startswith("machine") or value == "fax":
        return Answerer.MACHINE, value in _GREETING_ENDED
    return Answerer.UNKNOWN, False


class TwilioDialer:
    """Places calls for one account (`Dialer`)."""

    detects_greeting_end = True

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_base: str,
        *,
        carrier: str = "twilio",
        id_pattern: re.Pattern[str] = _SID,
    ) -> None:
        if not id_pattern.fullmatch(account_sid or "") or not auth_token:
            raise ValueError(f"{carrier} dial-out needs its account id and token")
        self.carrier = carrier
        self._account = account_sid
        self._authorization = "Basic " + b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._base = api_base.rstrip("/")

    def __repr__(self) -> str:  # never show the token
        return f"TwilioDialer(carrier={self.carrier!r}, account={self._account!r}, token=***)"

    def place(self, call: PlaceCall) -> PlaceRequest:
        form: list[tuple[str, str]] = [
            ("To", call.to_number),
            ("From", call.from_number),
            ("Url", call.answer_url),
            ("Method", "POST"),
            ("StatusCallback", call.status_url),
            ("StatusCallbackMethod", "POST"),
            *(
                ("StatusCallbackEvent", e)
                for e in ("initiated", "ringing", "answered", "completed")
            ),
            ("Timeout", str(call.ring_timeout_s)),
        ]
        if call.machine_detection is not MachineDetection.OFF:
            form += [
                ("MachineDetection", "DetectMessageEnd"),
                ("AsyncAmd", "true"),
                ("AsyncAmdStatusCallback", call.machine_url),
                ("AsyncAmdStatusCallbackMethod", "POST"),
            ]
        return PlaceRequest(
            method="POST",
            url=f"{self._base}/2010-04-01/Accounts/{self._account}/Calls.json",
            headers={"Authorization": self._authorization, "Accept": "application/json"},
            form=tuple(form),
            description=f"{self.carrier} call create",
        )

    def placed(self, status: int, body: bytes) -> Placed | PlaceFailed:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if 200 <= status < 300:
            sid = parsed.get("sid") if isinstance(parsed, dict) else None
            if isinstance(sid, str) and _SID.fullmatch(sid):
                return Placed(sid)
            return PlaceFailed(f"{self.carrier} answered {status} without a call sid", 502)
        code = parsed.get("code") if isinstance(parsed, dict) else None
        detail = f", error {code}" if isinstance(code, int) else ""
        return PlaceFailed(f"{self.carrier} refused the call (HTTP {status}{detail})", 502)

    def progress(self, webhook: Webhook) -> DialProgress | None:
        return form_progress(webhook)


def form_progress(webhook: Webhook) -> DialProgress | None:
    """A Twilio-style progress or AMD callback (a form: `CallSid`, `CallStatus`, `AnsweredBy`;
    Twilio, SignalWire LaML, Telnyx TeXML)."""
    form = dict(webhook.form())
    sid = form.get("CallSid", "")
    if not _SID.fullmatch(sid):
        return None
    who, ended = answered_by(form.get("AnsweredBy", ""))
    status = _STATUS.get(form.get("CallStatus", ""))
    if status is None and who is None:
        return None
    return DialProgress(bounded_id(sid), status, who, ended)

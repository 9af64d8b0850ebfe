"""Vonage Voice API call control: transfer and hang-up as `RestRequest`s (pure).

protocols.md C.3 and the Vonage Python SDK (`vonage_voice.Voice.hangup`, `transfer_call_ncco`):
`PUT {api_base}/v1/calls/{uuid}` with a JSON body

* `{"action":"hangup"}`, or
* `{"action":"transfer","destination":{"type":"ncco","ncco":[...]}}` (a transfer, or a hang-up
  with a goodbye: an NCCO that only talks ends the call when it runs out),

authenticated by `Authorization: Bearer <JWT>`: RS256 under the Vonage application's private
key, claims `application_id`, `iat`, `exp`, `jti` (as the SDK's JWT generator makes them). The
clock and the `jti` source come in from the shell: this module reads no clock.

Answers: 2xx done; 404 or 410 the call is gone (already ended); 429 and 5xx retry; the rest
(400 bad NCCO, 401/403 credentials) fail. Which status Vonage gives for a call that has just
completed is not documented: 404 is assumed [unverified].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final
from urllib.parse import quote

import jwt

from gateway.carriers.control import ControlOutcome, RestRequest
from gateway.carriers.vonage.ncco import action_ncco
from gateway.core.events import CallAction, HangUp, Transfer

__all__ = ["DEFAULT_API_BASE", "TOKEN_TTL_S", "VonageCallControl", "application_jwt"]

DEFAULT_API_BASE: Final = "https://api.nexmo.com"
TOKEN_TTL_S: Final = 300


def application_jwt(application_id: str, private_key: str, now_s: float, jti: str) -> str:
    """A Vonage application JWT (RS256) valid for `TOKEN_TTL_S` from `now_s`."""
    issued = int(now_s)
    claims = {
        "application_id": application_id,
        "iat": issued,
        "exp": issued + TOKEN_TTL_S,
        "jti": jti,
    }
    return jwt.encode(claims, private_key, algorithm="RS256")


class VonageCallControl:
    """Builds the Voice API requests for one application (`CallControl`)."""

    carrier = "vonage"

    def __init__(
        self,
        application_id: str,
        private_key: str,
        *,
        clock_s: Callable[[], float],
        new_id: Callable[[], str],
        api_base: str = DEFAULT_API_BASE,
        from_number: str | None = None,
    ) -> None:
        self._application_id = application_id
        self._private_key = private_key
        self._clock_s = clock_s
        self._new_id = new_id
        self._api_base = api_base.rstrip("/")
        self._from_number = from_number

    def __repr__(self) -> str:  # never show the key
        return f"VonageCallControl(application_id={self._application_id!r}, key=***)"

    def request(self, call_id: str, action: CallAction) -> RestRequest:
        body: dict[str, Any]
        if isinstance(action, HangUp) and not action.announcement:
            body = {"action": "hangup"}
            what = "hang-up"
        else:
            ncco = action_ncco(action, from_number=self._from_number)
            body = {"action": "transfer", "destination": {"type": "ncco", "ncco": ncco}}
            what = (
                f"transfer to {action.label or 'target'}"
                if isinstance(action, Transfer)
                else "hang-up after a goodbye"
            )
        token = application_jwt(
            self._application_id, self._private_key, self._clock_s(), self._new_id()
        )
        return RestRequest(
            method="PUT",
            url=f"{self._api_base}/v1/calls/{quote(call_id, safe='')}",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            json=body,
            description=f"vonage call update: {what}",
        )

    def outcome(self, status: int, body: bytes) -> ControlOutcome:
        if 200 <= status < 300:
            return ControlOutcome.DONE
        if status in (404, 410):
            return ControlOutcome.ALREADY_ENDED
        if status == 429 or status >= 500:
            return ControlOutcome.RETRY
        return ControlOutcome.FAILED

"""Twilio call control: transfer and hang-up as `RestRequest`s (pure; protocols.md B.6).

A call update is `POST {api_base}/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`, HTTP
Basic `AccountSid:AuthToken`, form-encoded (as twilio-python's `CallContext.update` sends it):

* transfer: `Twiml=<Response><Dial><Number>+1…</Number></Dial></Response>` (a `sip:` URI in
  `<Sip>`), with a `<Say>` first when the action carries an announcement. New TwiML ends the
  `<Connect><Stream>`: the media stream gets `stop` and closes;
* hang-up: `Status=completed`; with an announcement, `Twiml=<Response><Say>…</Say><Hangup/>`
  instead, so the caller hears it before the line drops.

Answers: 2xx done; 404 (Twilio error 20404, "resource not found": the call has ended and is
gone) and 400 with Twilio error 21220 ("Call is not in-progress. Cannot redirect.": the call
ended between the decision and the request, and is still listed) already ended, which is not an
error; 429 and 5xx retry; anything else (401/403 credentials, any other 400) fails.
"""

from __future__ import annotations

import json
import re
from base64 import b64encode
from typing import Final

from gateway.carriers import twiml
from gateway.carriers.control import ControlOutcome, RestRequest
from gateway.core.events import CallAction, HangUp, Transfer

__all__ = ["DEFAULT_API_BASE", "NOT_FOUND_CODE", "NOT_IN_PROGRESS_CODE", "TwilioCallControl"]

DEFAULT_API_BASE: Final = "https://api.twilio.com"
NOT_FOUND_CODE: Final = 20404
NOT_IN_PROGRESS_CODE: Final = 21220
"""Twilio's "Invalid call state" (HTTP 400): an update of a call that is no longer in progress."""
_SID: Final = re.compile(r"[A-Za-z0-9]{2,64}")


def _error_code(body: bytes) -> int | None:
    """The `code` of a Twilio error body (`{"code": 20404, "message": …, "status": 404}`)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    code = parsed.get("code") if isinstance(parsed, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


class TwilioCallControl:
    """Builds the Calls API requests for one account (`CallControl`)."""

    carrier = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_base: str = DEFAULT_API_BASE,
        *,
        voice: str | None = None,
        language: str | None = None,
        carrier: str = "twilio",
        sid_pattern: re.Pattern[str] = _SID,
    ) -> None:
        """`carrier` and `sid_pattern` let a Twilio-compatible API (SignalWire's LaML, whose
        ids are UUIDs) reuse these requests under its own name and id shape."""
        self.carrier = carrier
        self._sid = sid_pattern
        if not sid_pattern.fullmatch(account_sid or ""):
            raise ValueError("a Twilio account SID (AC…) is needed for call control")
        if not auth_token:
            raise ValueError("a Twilio auth token is needed for call control")
        if not api_base.startswith(("https://", "http://")):
            raise ValueError("the Twilio API base must be an http(s):// URL")
        self._account_sid = account_sid
        self._authorization = "Basic " + b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._api_base = api_base.rstrip("/")
        self._voice = voice
        self._language = language
        """`<Say>` voice and language for announcements (Twilio's defaults when None)."""

    def __repr__(self) -> str:  # never show the token
        return f"TwilioCallControl(account_sid={self._account_sid!r}, auth_token=***)"

    def request(self, call_id: str, action: CallAction) -> RestRequest:
        """The call update for `action`; ValueError for a malformed call SID or destination."""
        if not self._sid.fullmatch(call_id):
            raise ValueError("a Twilio call SID is letters and digits (CA…)")
        form: dict[str, str]
        if isinstance(action, Transfer):
            if action.announcement:
                document = twiml.say_and_dial(
                    action.announcement, action.target, voice=self._voice, language=self._language
                )
            else:
                document = twiml.dial(action.target)
            form = {"Twiml": document}
            what = f"transfer to {action.label or 'target'}"
        elif isinstance(action, HangUp) and action.announcement:
            document = twiml.say_and_hang_up(
                action.announcement, voice=self._voice, language=self._language
            )
            form = {"Twiml": document}
            what = "hang-up after a goodbye"
        else:
            form = {"Status": "completed"}
            what = "hang-up"
        return RestRequest(
            method="POST",
            url=f"{self._api_base}/2010-04-01/Accounts/{self._account_sid}/Calls/{call_id}.json",
            headers={"Authorization": self._authorization, "Accept": "application/json"},
            form=form,
            description=f"{self.carrier} call update: {what}",
        )

    def outcome(self, status: int, body: bytes) -> ControlOutcome:
        if 200 <= status < 300:
            return ControlOutcome.DONE
        if status == 404:
            code = _error_code(body)
            if code is None or code == NOT_FOUND_CODE:
                return ControlOutcome.ALREADY_ENDED
            return ControlOutcome.FAILED
        if status == 400 and _error_code(body) == NOT_IN_PROGRESS_CODE:
            return ControlOutcome.ALREADY_ENDED
        if status == 429 or status >= 500:
            return ControlOutcome.RETRY
        return ControlOutcome.FAILED

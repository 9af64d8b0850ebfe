"""Plivo call control: transfer and hang-up as `RestRequest`s (pure).

protocols.md C.2 and plivo-python `resources/calls.py` (`delete`, `update`): the call is
`{api_base}/v1/Account/{auth_id}/Call/{call_uuid}/`, HTTP Basic `auth_id:auth_token`.

* hang-up: `DELETE` on the call (204);
* transfer: `POST` with `{"legs": "aleg", "aleg_url": …, "aleg_method": "POST"}` (JSON, as
  plivo-python sends it): Plivo fetches new XML from `aleg_url` and runs it on the caller's
  leg, which ends the stream. The gateway serves that XML itself at `action_url`
  (`/plivo/action`), told what to do by the query string: `to` (dial it) and `say` (speak it
  first). A hang-up with an announcement is a transfer to `…/plivo/action?say=…` (speak, then
  hang up). Plivo signs its fetch of `aleg_url` like any callback, so the route checks it.

Answers: 2xx done; 404 the call had already ended; 408, 429 and 5xx retry; the rest fail.
"""

from __future__ import annotations

import base64
from typing import Final
from urllib.parse import quote, urlencode

from gateway.carriers.control import ControlOutcome, RestRequest
from gateway.core.events import CallAction, HangUp, Transfer

__all__ = ["DEFAULT_API_BASE", "PlivoCallControl"]

DEFAULT_API_BASE: Final = "https://api.plivo.com"


class PlivoCallControl:
    """Builds the Call API requests for one account (`CallControl`)."""

    carrier = "plivo"

    def __init__(
        self,
        auth_id: str,
        auth_token: str,
        *,
        action_url: str,
        api_base: str = DEFAULT_API_BASE,
    ) -> None:
        self._auth_id = auth_id
        self._auth_token = auth_token
        self._action_url = action_url
        self._api_base = api_base.rstrip("/")

    def __repr__(self) -> str:  # never show the token
        return f"PlivoCallControl(auth_id={self._auth_id!r}, auth_token=***)"

    def request(self, call_id: str, action: CallAction) -> RestRequest:
        account = quote(self._auth_id, safe="")
        url = f"{self._api_base}/v1/Account/{account}/Call/{quote(call_id, safe='')}/"
        basic = base64.b64encode(f"{self._auth_id}:{self._auth_token}".encode()).decode()
        headers = {"Authorization": f"Basic {basic}", "Accept": "application/json"}
        if isinstance(action, HangUp) and not action.announcement:
            return RestRequest("DELETE", url, headers, description="plivo call hang-up")
        query: dict[str, str] = {}
        if isinstance(action, Transfer):
            query["to"] = action.target
            what = f"transfer to {action.label or 'the configured number'}"
        elif isinstance(action, HangUp):
            what = "goodbye, then hang-up"
        else:
            raise TypeError(f"not a call action: {type(action).__name__}")
        if action.announcement:
            query["say"] = action.announcement
        body = {
            "legs": "aleg",
            "aleg_url": f"{self._action_url}?{urlencode(query)}",
            "aleg_method": "POST",
        }
        return RestRequest("POST", url, headers, json=body, description=f"plivo call {what}")

    def outcome(self, status: int, body: bytes) -> ControlOutcome:
        del body  # Plivo's status says it all
        if 200 <= status < 300:
            return ControlOutcome.DONE
        if status == 404:
            return ControlOutcome.ALREADY_ENDED
        if status in (408, 429) or status >= 500:
            return ControlOutcome.RETRY
        return ControlOutcome.FAILED

"""SignalWire call control: Twilio's call-update requests under the space's LaML API (pure).

protocols.md C.5: the compatibility REST API is Twilio's, under
`https://{space}.signalwire.com/api/laml/2010-04-01/Accounts/{ProjectID}/Calls/{CallSid}.json`
[unverified], HTTP Basic `ProjectID:APIToken`, form-encoded: `Twiml=<Response><Dial>…` for a
transfer (a `<Say>` first with an announcement), `Status=completed` for a hang-up. So the
requests are `TwilioCallControl`'s, named `signalwire`, with SignalWire's ids (UUIDs) accepted.
"""

from __future__ import annotations

import re
from typing import Final

from gateway.carriers.twilio.rest import TwilioCallControl

__all__ = ["LAML_PATH", "signalwire_control"]

LAML_PATH: Final = "/api/laml"
_ID: Final = re.compile(r"[A-Za-z0-9-]{2,64}")
"""SignalWire project and call ids are UUIDs (letters, digits, dashes)."""


def signalwire_control(project_id: str, api_token: str, space_url: str) -> TwilioCallControl:
    """The call control for one project; ValueError for a malformed id, token or URL."""
    return TwilioCallControl(
        project_id,
        api_token,
        space_url.rstrip("/") + LAML_PATH,
        carrier="signalwire",
        sid_pattern=_ID,
    )

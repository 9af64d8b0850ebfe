"""Calls answered at a webhook whose media stream has not started yet, and their stream tokens.

A webhook that takes its call `issue`s a signed, single-use stream token for it
(`gateway.core.stream_tokens`) and remembers the call until its token is redeemed by the stream's
`start` or expires: such calls count against GATEWAY_MAX_CALLS (a burst of webhooks cannot admit
more calls than the limit between the answer and the stream), and the drain waits for them. Who
called whom is only known here, from the webhook: the stream gets it back with its token.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from gateway.core.events import CallStarted
from gateway.core.stream_tokens import STREAM_TOKEN_PARAMETER, StreamTokens, TokenCheck

__all__ = ["AwaitingStreams", "Redeemed"]

Parties = tuple[str | None, str | None]
"""(from, to) numbers of a call, when its webhook said."""


@dataclass(frozen=True)
class Redeemed:
    """A stream whose token held: the profile its webhook chose ("" for the default) and who
    called whom (None when this process did not answer its webhook)."""

    profile: str
    from_number: str | None
    to_number: str | None


class AwaitingStreams:
    """Stream tokens and the calls waiting on them (wall-clock seconds, injected for tests)."""

    def __init__(self, secret: bytes, *, ttl_s: float, wall_clock_s: Callable[[], float]) -> None:
        self.tokens = StreamTokens(secret, ttl_s=ttl_s)
        self._ttl_s = ttl_s
        self._wall_clock_s = wall_clock_s
        self._expiry_s: dict[str, float] = {}
        """Call id -> when its token expires."""
        self._parties: dict[str, Parties] = {}

    def issue(self, call_id: str, *, profile: str = "", parties: Parties = (None, None)) -> str:
        """A fresh token for `call_id`; the call now awaits its stream."""
        now = self._wall_clock_s()
        self._expiry_s[call_id] = now + self._ttl_s
        self._parties[call_id] = parties
        return self.tokens.issue(call_id, now, secrets.token_bytes(16), profile=profile)

    def redeem(self, started: CallStarted) -> Redeemed | str:
        """The stream's token checked against its call: `Redeemed` (the call no longer awaits),
        else why not (`token reused`, `token expired`, ...)."""
        token = started.custom_parameters.get(STREAM_TOKEN_PARAMETER)
        check, name = self.tokens.redeem_profile(token, started.call_id, self._wall_clock_s())
        if check is not TokenCheck.VALID:
            return f"token {check.name.lower()}"
        self._expiry_s.pop(started.call_id, None)
        from_number, to_number = self._parties.pop(started.call_id, (None, None))
        return Redeemed(name or "", from_number, to_number)

    def forget(self, call_id: str) -> None:
        """The call's stream went to another replica (cluster mode): it no longer awaits here."""
        self._expiry_s.pop(call_id, None)
        self._parties.pop(call_id, None)

    def __len__(self) -> int:
        """Calls awaiting their stream now (those whose token expired are forgotten)."""
        now = self._wall_clock_s()
        for call in [call for call, until in self._expiry_s.items() if until <= now]:
            del self._expiry_s[call]
            self._parties.pop(call, None)
        return len(self._expiry_s)

    def seconds_to_next_expiry(self) -> float | None:
        """How long until the first awaiting call's token expires (None: no call awaits)."""
        if not self._expiry_s:
            return None
        return max(0.0, min(self._expiry_s.values()) - self._wall_clock_s())

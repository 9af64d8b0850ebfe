"""What a refused caller hears: the words of every carrier's fallback document.

A webhook whose call is not taken (`gateway.core.admission`) answers the carrier with its
fallback document (TwiML `<Say>`, an NCCO `talk`, ...): this message, then a dial to
GATEWAY_FALLBACK_NUMBER when it is set, else a hang-up. The carrier modules render it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["FALLBACK_MESSAGE", "FALLBACK_TRANSFER_MESSAGE", "Refusal", "refusal"]

FALLBACK_MESSAGE: Final = "Sorry, our assistant cannot take your call right now."
FALLBACK_TRANSFER_MESSAGE: Final = (
    "Sorry, our assistant cannot take your call right now. Connecting you to a colleague."
)


@dataclass(frozen=True)
class Refusal:
    """Why a webhook is not taking its call, and what the carrier should do with the caller."""

    reason: str
    """`at capacity`, `draining` or `no agent` (no profile answers the dialed number)."""
    message: str
    """What to say to the caller first."""
    transfer_to: str | None
    """GATEWAY_FALLBACK_NUMBER: dial it after the message; None: hang up after it."""


def refusal(reason: str, fallback_number: str | None) -> Refusal:
    """The fallback for a call refused for `reason`: an apology, then the fallback number (its
    own wording says so) or a hang-up."""
    message = FALLBACK_MESSAGE if fallback_number is None else FALLBACK_TRANSFER_MESSAGE
    return Refusal(reason, message, fallback_number)

"""The built-in kinds: `transfer` (to a destination named in the tools file), `hang_up` and
`collect_digits` (keypad entry, gathered by the call's bridge: `gateway.core.digits`).

Neither touches the phone call itself. They answer the model at once and hand the bridge a
`Transfer` or `HangUp` action (in `ToolFinished.action`); the bridge performs it through the
carrier's REST API once what the agent is still saying has been heard.

The model never chooses a number: the transfer tool's only parameter is `destination`, an enum
of the names configured in the file (`sales`, `support`), and each name maps to its number or
SIP URI here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from gateway.core.digits import DigitCollection
from gateway.core.events import HangUp, Transfer
from gateway.tools.base import Reply, ToolContext, ToolError

__all__ = [
    "DEFAULT_DIGITS_DESCRIPTION",
    "DESTINATION_PARAMETER",
    "Destination",
    "DigitsHandler",
    "HangUpHandler",
    "TransferHandler",
    "transfer_parameters",
]

DESTINATION_PARAMETER: Final = "destination"
DEFAULT_TRANSFER_DESCRIPTION: Final = (
    "Transfer the caller to a person. Tell the caller first that you are transferring them."
)
DEFAULT_HANG_UP_DESCRIPTION: Final = (
    "End the phone call. Say goodbye first; the call ends once your last words were heard."
)

DEFAULT_DIGITS_DESCRIPTION: Final = (
    "Collect digits the caller types on the phone keypad (an account number, a PIN). Ask the "
    "caller first, e.g. 'please enter your account number followed by the pound key'; the "
    "result holds the digits and how the entry ended (end_key, max_digits or timeout)."
)


@dataclass(frozen=True)
class Destination:
    target: str = field(repr=False)
    """A phone number (E.164) or `sip:` URI; never shown to the model."""
    description: str = ""


def transfer_parameters(destinations: Mapping[str, Destination]) -> dict[str, Any]:
    """The Live schema of the transfer tool: one required `destination`, an enum of names."""
    described = [f"{name}: {d.description}" for name, d in destinations.items() if d.description]
    text = "Where to transfer the caller."
    if described:
        text += " " + "; ".join(described) + "."
    return {
        "type": "OBJECT",
        "properties": {
            DESTINATION_PARAMETER: {
                "type": "STRING",
                "enum": list(destinations),
                "description": text,
            }
        },
        "required": [DESTINATION_PARAMETER],
    }


@dataclass(frozen=True)
class TransferHandler:
    destinations: Mapping[str, Destination]

    async def invoke(self, args: Mapping[str, Any], context: ToolContext) -> Reply:
        name = args.get(DESTINATION_PARAMETER)
        destination = self.destinations.get(name) if isinstance(name, str) else None
        if destination is None:
            choices = ", ".join(self.destinations)
            raise ToolError(f"unknown destination; choose one of: {choices}")
        return Reply(
            f"transferring the caller to {name}",
            action=Transfer(target=destination.target, label=str(name)),
            log_fields={"destination": name},
        )


@dataclass(frozen=True)
class HangUpHandler:
    async def invoke(self, args: Mapping[str, Any], context: ToolContext) -> Reply:
        return Reply("the call will end once your last words have been heard", action=HangUp())


@dataclass(frozen=True)
class DigitsHandler:
    """`collect_digits`: the call's bridge gathers the keys itself (it never asks the shell to
    run this tool); a run outside a call, which has no keypad, is an error for the model."""

    collection: DigitCollection

    async def invoke(self, args: Mapping[str, Any], context: ToolContext) -> Reply:
        raise ToolError("keypad entry is only possible during a phone call")

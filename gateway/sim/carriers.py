"""The carriers the simulator speaks, by name: `gateway call --carrier NAME`.

Each entry names the module and class of the carrier's `CarrierDialect` (imported on first use,
so `gateway --help` stays fast) and the environment variables `gateway call` reads for the
carrier's signing secret and account id when the command line gives none. A new carrier is one
`SimCarrier(...)` line in `SIM_CARRIERS`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.sim.dialect import CarrierDialect

__all__ = ["DEFAULT_CARRIER", "SIM_CARRIERS", "SimCarrier", "carrier_names", "sim_carrier"]


@dataclass(frozen=True)
class SimCarrier:
    """One carrier dialect of the simulator."""

    name: str
    dialect_path: str
    """`module:Class` of its `CarrierDialect`; the class is called with no arguments."""
    secret_env: str | None = None
    """Variable `--auth-token` defaults to: the secret the simulator signs with."""
    account_env: str | None = None
    """Variable `--account-sid` defaults to."""
    secret_help: str = "signing secret"
    """What the signing secret is for this carrier (help text)."""

    def dialect(self) -> CarrierDialect:
        module, _, attribute = self.dialect_path.partition(":")
        factory = getattr(importlib.import_module(module), attribute)
        dialect: CarrierDialect = factory()
        return dialect


SIM_CARRIERS: tuple[SimCarrier, ...] = (
    SimCarrier(
        "twilio",
        "gateway.sim.twilio:TwilioDialect",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_ACCOUNT_SID",
        "Auth Token (X-Twilio-Signature)",
    ),
    SimCarrier(
        "telnyx",
        "gateway.sim.telnyx:TelnyxDialect",
        "TELNYX_SIM_PRIVATE_KEY",
        None,
        "base64 Ed25519 private key seed matching the gateway's TELNYX_PUBLIC_KEY",
    ),
    SimCarrier(
        "plivo",
        "gateway.sim.plivo:PlivoDialect",
        "PLIVO_AUTH_TOKEN",
        "PLIVO_AUTH_ID",
        "Auth Token (X-Plivo-Signature-V3)",
    ),
    SimCarrier(
        "signalwire",
        "gateway.sim.signalwire:SignalWireDialect",
        "SIGNALWIRE_SIGNING_KEY",
        "SIGNALWIRE_PROJECT_ID",
        "Signing Key (X-SignalWire-Signature)",
    ),
    SimCarrier(
        "vonage",
        "gateway.sim.vonage:VonageDialect",
        "VONAGE_SIGNATURE_SECRET",
        None,
        "signature secret (the signed webhooks' HS256 JWT)",
    ),
    SimCarrier(
        "exotel",
        "gateway.sim.exotel:ExotelDialect",
        "EXOTEL_STREAM_PASSWORD",
        "EXOTEL_STREAM_USER",
        "Basic password (with --account-sid as the user) of the Voicebot applet's URL",
    ),
)

DEFAULT_CARRIER = "twilio"


def carrier_names() -> list[str]:
    return [carrier.name for carrier in SIM_CARRIERS]


def sim_carrier(name: str) -> SimCarrier:
    """The registered carrier `name`; KeyError when there is none."""
    for carrier in SIM_CARRIERS:
        if carrier.name == name:
            return carrier
    raise KeyError(f"no simulated carrier {name!r} (known: {', '.join(carrier_names())})")

"""The carriers the simulator speaks, by name: `gateway call --carrier NAME`.

Every registered carrier plug-in (`gateway.carriers.registry`) names its simulator dialect
(`SimDialect`: the `module:Class` of its `CarrierDialect`, imported on first use so that
`gateway --help` stays fast) and the environment variables `gateway call` reads for the
carrier's signing secret and account id when the command line gives none. A carrier registered
by a test (`registry.register`) is simulated the same way.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.carriers import registry

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


def _sim_carriers() -> tuple[SimCarrier, ...]:
    return tuple(
        SimCarrier(
            plugin.name,
            plugin.sim.path,
            plugin.sim.secret_env,
            plugin.sim.account_env,
            plugin.sim.secret_help,
        )
        for plugin in registry.carriers()
    )


SIM_CARRIERS: tuple[SimCarrier, ...] = _sim_carriers()
"""The built-in carriers' dialects (`registry.CARRIERS`)."""

DEFAULT_CARRIER = "twilio"


def carrier_names() -> list[str]:
    return [carrier.name for carrier in _sim_carriers()]


def sim_carrier(name: str) -> SimCarrier:
    """The registered carrier `name`; KeyError when there is none."""
    for carrier in _sim_carriers():
        if carrier.name == name:
            return carrier
    raise KeyError(f"no simulated carrier {name!r} (known: {', '.join(carrier_names())})")

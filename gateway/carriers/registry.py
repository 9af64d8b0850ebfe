"""The registered carriers: one line per carrier plug-in (`gateway/carriers/<name>/plugin.py`).

The app mounts every registered carrier's routes (`gateway.shell.carrier_routes`), the settings
read every registered carrier's variables, the docs generator lists every registered carrier's
options (`options`), and the simulator speaks every registered carrier's dialect. Adding a
carrier is its folder and one line in `CARRIERS`; a test may `register` a plug-in of its own
for the duration of a `with` block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gateway.carriers.exotel.plugin import EXOTEL
from gateway.carriers.plivo.plugin import PLIVO
from gateway.carriers.plugin import CarrierPlugin
from gateway.carriers.signalwire.plugin import SIGNALWIRE
from gateway.carriers.telnyx.plugin import TELNYX
from gateway.carriers.twilio.plugin import TWILIO
from gateway.carriers.vonage.plugin import VONAGE
from gateway.options.option import Option
from gateway.options.registry import all_options

__all__ = ["CARRIERS", "carrier", "carrier_names", "carriers", "options", "register"]

CARRIERS: tuple[CarrierPlugin[Any], ...] = (
    TWILIO,
    VONAGE,
    TELNYX,
    PLIVO,
    SIGNALWIRE,
    EXOTEL,
)

_extra: list[CarrierPlugin[Any]] = []


def carriers() -> tuple[CarrierPlugin[Any], ...]:
    """Every registered carrier: `CARRIERS`, then those `register` added."""
    return CARRIERS + tuple(_extra)


def carrier_names() -> list[str]:
    return [plugin.name for plugin in carriers()]


def carrier(name: str) -> CarrierPlugin[Any]:
    """The registered carrier `name`; KeyError when there is none."""
    for plugin in carriers():
        if plugin.name == name:
            return plugin
    raise KeyError(f"no carrier {name!r} (known: {', '.join(carrier_names())})")


def options() -> tuple[Option, ...]:
    """Every option: the core's (`gateway.options.registry.all_options`), then each registered
    carrier's, in registry order (ValueError when two declare one variable)."""
    return all_options(extra=(option for plugin in carriers() for option in plugin.options))


@contextmanager
def register(plugin: CarrierPlugin[Any]) -> Iterator[CarrierPlugin[Any]]:
    """Register `plugin` while the block runs (settings read and apps built inside it see it)."""
    if plugin.name in carrier_names():
        raise ValueError(f"a carrier named {plugin.name!r} is already registered")
    _extra.append(plugin)
    try:
        yield plugin
    finally:
        _extra.remove(plugin)

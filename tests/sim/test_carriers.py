"""The simulator's carrier registry and `gateway call --carrier`."""

from __future__ import annotations

import argparse

import pytest

from gateway.sim.carriers import DEFAULT_CARRIER, SIM_CARRIERS, carrier_names, sim_carrier
from gateway.sim.cli import add_call_arguments


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="gateway call")
    add_call_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.parametrize("name", carrier_names())
def test_every_registered_carrier_builds_its_dialect(name: str) -> None:
    carrier = sim_carrier(name)
    dialect = carrier.dialect()
    assert dialect.name == name
    assert dialect.webhook_path.startswith(f"/{name}/")


def test_names_are_unique_and_the_default_is_registered() -> None:
    names = carrier_names()
    assert len(names) == len(set(names)) == len(SIM_CARRIERS)
    assert DEFAULT_CARRIER in names


def test_an_unknown_carrier_is_refused() -> None:
    with pytest.raises(KeyError, match="known: twilio"):
        sim_carrier("pigeon")
    with pytest.raises(SystemExit):
        _parse("a.wav", "--carrier", "pigeon")


def test_the_carrier_option_defaults_to_twilio() -> None:
    assert _parse("a.wav").carrier == "twilio"
    assert _parse("a.wav", "--carrier", "twilio").carrier == "twilio"

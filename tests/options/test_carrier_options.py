"""Each carrier's options, declared once in its folder, reach the generated docs and
`.env.example`; the toy carrier's too, registered from the test suite alone."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from gateway.carriers import registry
from gateway.carriers.plugin import CarrierPlugin
from gateway.env_reader import SettingsError
from gateway.options.core import UNSIGNED_CARRIERS
from gateway.options.docs import env_example, fill_docs, sections, split_env_example
from gateway.settings import load_settings
from tests.carriers.toy.plugin import TOY, ToyPlugin

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "gen_config_docs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _block(docs: str, section: str) -> str:
    match = re.search(
        rf"<!-- options:begin {re.escape(section)} -->\n(.*?)<!-- options:end -->", docs, re.S
    )
    assert match is not None, section
    return match[1]


@pytest.mark.parametrize("plugin", registry.CARRIERS, ids=lambda p: p.name)
def test_every_carrier_option_is_in_its_section_of_the_generated_docs(
    plugin: CarrierPlugin[object],
) -> None:
    generated = _script().generated()
    docs = generated[ROOT / "docs/configuration.md"]
    example = generated[ROOT / ".env.example"]
    assert plugin.options
    for option in plugin.options:
        assert option.env is not None
        assert f"`{option.env}`" in _block(docs, option.section), option.env
        assert re.search(rf"^{option.env}=", example, re.MULTILINE), option.env
    assert plugin.secret_name in {option.env for option in plugin.options}


def test_a_carrier_registered_from_the_tests_gets_its_docs_rows_and_example_lines() -> None:
    docs = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
    header = split_env_example((ROOT / ".env.example").read_text(encoding="utf-8"))
    with registry.register(TOY):
        options = registry.options()
    assert [o.env for o in sections(options)["Toy"]] == ["TOY_SECRET"]
    toy_docs = docs + "\n## Toy\n\n<!-- options:begin Toy -->\n<!-- options:end -->\n"
    filled = fill_docs(toy_docs, options)
    assert _block(filled, "Toy").splitlines() == [
        "| variable | default | meaning |",
        "|---|---|---|",
        "| `TOY_SECRET` | none | the shared secret in `X-Toy-Secret` |",
    ]
    assert filled.startswith(fill_docs(docs, registry.options()))
    example = env_example(header, options)
    assert example.splitlines()[-3:] == [
        "# --- Toy ".ljust(99, "-"),
        "# the shared secret in X-Toy-Secret",
        "TOY_SECRET=",
    ]


def test_two_carriers_cannot_declare_one_variable() -> None:
    class Twin(ToyPlugin):
        name = "twin"

    twice = pytest.raises(ValueError, match="TOY_SECRET is declared twice")
    with registry.register(Twin()), registry.register(TOY), twice:
        registry.options()


def test_the_unsigned_carriers_take_every_registered_carrier_by_name() -> None:
    """The signature policy's variable names carriers by their registered name: one registered
    from the tests alone is accepted with no edit to the option or the shell."""
    names = ",".join(registry.carrier_names())
    settings = load_settings({UNSIGNED_CARRIERS.env or "": names}, env_file=None)
    assert all(settings.carrier(name).allow_unsigned for name in registry.carrier_names())
    with pytest.raises(SettingsError, match="GATEWAY_UNSIGNED_CARRIERS names toy; known: twilio"):
        load_settings({"GATEWAY_UNSIGNED_CARRIERS": "toy"}, env_file=None)
    with registry.register(TOY):
        settings = load_settings({"GATEWAY_UNSIGNED_CARRIERS": "TOY"}, env_file=None)
    assert settings.carriers["toy"].allow_unsigned
    assert not settings.carriers["twilio"].allow_unsigned

"""The carriers' option declarations (docs, `.env.example`) and their plug-ins' variables agree."""

from __future__ import annotations

from gateway.carriers import registry
from gateway.options.carriers import CARRIERS


def test_the_docs_declare_exactly_the_variables_the_carrier_plugins_read() -> None:
    read = {variable.name for plugin in registry.carriers() for variable in plugin.variables}
    declared = {option.env for option in CARRIERS if option.env is not None}
    # The one shared carrier variable is read by the shell's signature policy, not a plug-in.
    assert declared - read == {"GATEWAY_UNSIGNED_CARRIERS"}
    assert read - declared == set()


def test_the_unsigned_carriers_doc_names_every_registered_carrier() -> None:
    (option,) = [o for o in CARRIERS if o.env == "GATEWAY_UNSIGNED_CARRIERS"]
    for name in registry.carrier_names():
        assert f"`{name}`" in option.doc

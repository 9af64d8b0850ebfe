"""The carrier registry: every plug-in declared once, documented, and the only vendor code."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.carriers import registry
from gateway.carriers.plugin import CarrierPlugin
from gateway.env_reader import EnvReader
from gateway.settings import load_settings
from gateway.shell.carrier_routes import carrier_routes

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["twilio", "vonage", "telnyx", "plivo", "signalwire", "exotel"]
VENDOR_FIELDS = {
    "CallSid", "CallUUID", "StreamSid", "streamSid", "callSid", "call_control_id", "CallFrom",
    "CallTo", "AccountSid", "conversation_uuid", "X-Twilio-Signature",
    "x-twilio-signature", "x-plivo-signature-v3", "telnyx-signature-ed25519",
}  # fmt: skip
"""Wire names of the carriers' fields and headers: none may appear outside their folders."""


def test_one_line_per_carrier_in_the_registry() -> None:
    assert registry.carrier_names() == NAMES
    source = (ROOT / "gateway/carriers/registry.py").read_text()
    for name in NAMES:
        assert source.count(f"    {name.upper()},\n") == 1


@pytest.mark.parametrize("plugin", registry.CARRIERS, ids=lambda p: p.name)
def test_every_declared_variable_is_read_and_documented(plugin: CarrierPlugin[object]) -> None:
    names = [option.env for option in plugin.options]
    assert plugin.secret_name in names
    example = (ROOT / ".env.example").read_text()
    configuration = (ROOT / "docs/configuration.md").read_text()
    for name in names:
        assert re.search(rf"^{name}=", example, re.MULTILINE), name
        assert f"`{name}`" in configuration, name
    read = load_settings({}, env_file=None).carrier(plugin.name)
    assert read == type(read)()  # an unset environment reads as the settings class's defaults
    assert plugin.default_settings() == read


def test_every_carrier_gets_voice_media_and_its_callbacks() -> None:
    paths = {getattr(route, "path", "") for route in carrier_routes()}
    for plugin in registry.CARRIERS:
        expected = {f"/{plugin.name}/voice", f"/{plugin.name}/media"}
        expected |= {f"/{plugin.name}/{callback.path}" for callback in plugin.callbacks}
        assert expected <= paths


def _strings(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and not (node.value.count("\n") or len(node.value) > 60)  # docstrings may mention them
    }  # fmt: skip


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "gateway/shell").glob("*.py"))
    + sorted((ROOT / "gateway/carriers").glob("*.py")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_vendor_field_name_outside_its_carrier_folder(path: Path) -> None:
    assert _strings(path) & VENDOR_FIELDS == set()


def test_the_checker_sees_a_vendor_field(tmp_path: Path) -> None:
    bad = tmp_path / "routes.py"
    bad.write_text('call_id = form.get("CallSid", "")\n')
    assert _strings(bad) & VENDOR_FIELDS == {"CallSid"}


class _Recording(dict[str, str]):
    """An empty environment that remembers every variable asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: object = None) -> Any:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)


@pytest.mark.parametrize("plugin", registry.CARRIERS, ids=lambda p: p.name)
def test_a_carrier_reads_exactly_the_variables_it_declares(plugin: CarrierPlugin[Any]) -> None:
    environment = _Recording()
    plugin.read_settings(EnvReader(environment), False)
    assert environment.asked == {option.env for option in plugin.options}

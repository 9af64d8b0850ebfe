"""docs/configuration.md's tables and `.env.example` are generated from the options: a test
fails when either has drifted (fix: `python scripts/gen_config_docs.py`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from gateway.options.docs import DocsError, env_example, fill_docs, profile_table, table
from gateway.options.option import Option
from gateway.options.registry import all_options
from gateway.settings import load_settings, parse_dotenv

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "gen_config_docs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["docs/configuration.md", "docs/agents.md", ".env.example"])
def test_the_generated_file_is_up_to_date(name: str) -> None:
    expected = _script().generated()[ROOT / name]
    assert (ROOT / name).read_text(encoding="utf-8") == expected, (
        f"{name} has drifted from gateway/options: run python scripts/gen_config_docs.py"
    )


def test_the_check_fails_on_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = _script()
    docs = tmp_path / "configuration.md"
    docs.write_text(
        (ROOT / "docs" / "configuration.md")
        .read_text()
        .replace("| `GATEWAY_MAX_CALLS` | `100` |", "| `GATEWAY_MAX_CALLS` | `50` |")
    )
    env = tmp_path / ".env.example"
    env.write_text((ROOT / ".env.example").read_text())
    monkeypatch.setattr(script, "ROOT", tmp_path)
    monkeypatch.setattr(script, "DOCS", docs)
    monkeypatch.setattr(script, "ENV_EXAMPLE", env)
    assert script.main(["--check"]) == 1
    assert script.main([]) == 0
    assert "| `GATEWAY_MAX_CALLS` | `100` |" in docs.read_text()
    assert script.main(["--check"]) == 0


def test_every_variable_is_in_both_files() -> None:
    docs = (ROOT / "docs" / "configuration.md").read_text()
    env = (ROOT / ".env.example").read_text()
    for option in all_options():
        if option.env is not None:
            assert f"`{option.env}`" in docs
            assert f"{option.env}=" in env


def test_every_profile_key_is_in_the_agents_table() -> None:
    agents = (ROOT / "docs" / "agents.md").read_text()
    keys = [option.profile for option in all_options() if option.profile]
    assert len(keys) == 35  # + voicemail_message, hello_timeout_ms (docs/outbound.md)
    for key in keys:
        assert f"| `{key}` |" in agents


def test_the_agents_table_takes_the_profile_wording() -> None:
    toy = (
        Option("TOY_X", "int", "x for the environment", "Toy", default=3, profile="x"),
        Option(None, "flag", "y", "Toy", profile="y.z", profile_doc="y, per profile"),
        Option("TOY_ONLY", "text", "not a profile key", "Toy"),
    )
    assert profile_table(toy).splitlines() == [
        "| field | default | meaning |",
        "|---|---|---|",
        "| `x` | `3` | x for the environment |",
        "| `y.z` | none | y, per profile |",
    ]


def test_the_example_is_a_valid_configuration_with_every_default() -> None:
    env = parse_dotenv((ROOT / ".env.example").read_text())
    settings = load_settings(env, env_file=None)
    assert settings.server.max_calls == 100
    assert settings.live_setup_timeout_s == 10.0


def test_an_option_from_elsewhere_gets_its_rows_and_block() -> None:
    """A carrier's own options (declared in its folder) are rendered like the core's."""
    toy = (
        Option("TOY_TOKEN", "secret", "checks the toy's signature", "Toy", default_doc="none"),
        Option("TOY_RATE", "int", "the toy's audio rate", "Toy", default=8000),
        Option("TOY_RATE_MAX", "int", "its ceiling", "Toy", default=16000, own_row=False),
    )
    assert table(toy).splitlines() == [
        "| variable | default | meaning |",
        "|---|---|---|",
        "| `TOY_TOKEN` | none | checks the toy's signature |",
        "| `TOY_RATE`, `TOY_RATE_MAX` | `8000`, `16000` | the toy's audio rate |",
    ]
    docs = "# Toy\n\n<!-- options:begin Toy -->\nold\n<!-- options:end -->\nprose\n"
    assert fill_docs(docs, toy) == (
        f"# Toy\n\n<!-- options:begin Toy -->\n{table(toy)}\n<!-- options:end -->\nprose\n"
    )
    with pytest.raises(DocsError, match=r"no <!-- options:begin \.\.\. --> block for Toy"):
        fill_docs("# nothing\n", toy)
    example = env_example("# header\n", toy)
    assert example.splitlines()[-5:] == [
        "TOY_TOKEN=",
        "# the toy's audio rate",
        "TOY_RATE=8000",
        "# its ceiling",
        "TOY_RATE_MAX=16000",
    ]

"""The options schema: one declaration per setting, one coercion path for the environment and
the profiles file, and errors that name the variable or the profile and key."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from gateway.agent_settings import _LIVE_OPTION_VARIABLES
from gateway.agents.loader import ProfilesFileError, parse_agents
from gateway.carriers import registry
from gateway.env_reader import EnvReader, SettingsError
from gateway.live.setup import LiveConfig, VadConfig
from gateway.options import core as opt
from gateway.options.core import CORE
from gateway.options.option import Option, OptionValueError, from_text, from_toml
from gateway.options.registry import all_options, check_unique
from gateway.settings import load_settings


def test_every_option_is_declared_once_with_a_doc_and_a_section() -> None:
    options = registry.options()  # the core's and every registered carrier's
    assert len(options) > len(all_options())
    assert len({o.name for o in options}) == len(options)
    for option in options:
        assert option.doc, option.name
        assert option.section, option.name
    with pytest.raises(ValueError, match="GATEWAY_TEMPERATURE is declared twice"):
        check_unique((opt.TEMPERATURE, dataclasses.replace(opt.TEMPERATURE, profile=None)))


def test_every_live_option_has_a_declaration() -> None:
    """A refused LiveConfig option is reported under its variable or profile key: each one has
    an option that names it."""
    fields = {f.name for f in dataclasses.fields(LiveConfig)} - {"vad"}
    fields |= {f"vad.{f.name}" for f in dataclasses.fields(VadConfig)}
    fields.discard("vad.disabled")  # the gateway's own choice (manual activity), not a setting
    declared = {o.live_field for o in CORE if o.live_field}
    assert fields == declared
    assert set(_LIVE_OPTION_VARIABLES) == fields  # each has a variable too


@pytest.mark.parametrize(
    ("kind", "text", "toml", "value"),
    [
        ("bool", "yes", True, True),
        ("flag", "off", False, False),
        ("int", "12", 12, 12),
        ("number", "0.5", 0.5, 0.5),
        ("choice", "HIGH", "High", "high"),
        ("list", "a, b", ["a", "b"], ("a", "b")),
        ("text", "  x ", " x", "x"),
    ],
)
def test_environment_and_profile_give_the_same_value(
    kind: str, text: str, toml: Any, value: Any
) -> None:
    choices = ("high", "low") if kind == "choice" else ()
    option = Option("X", kind, "doc", "s", profile="x", choices=choices)  # type: ignore[arg-type]
    assert from_text(option, text) == value
    assert from_toml(option, toml) == value


@pytest.mark.parametrize(
    ("kind", "text", "toml", "env_message", "profile_message"),
    [
        ("bool", "maybe", "yes", "must be true or false, not 'maybe'", "must be true or false"),
        ("int", "1.5", 1.5, "must be an integer, not '1.5'", "must be a whole number"),
        ("number", "x", "x", "must be a number, not 'x'", "must be a number"),
        ("choice", "mid", "mid", "must be one of high, low, not 'mid'", "must be one of high, low"),
    ],
)
def test_environment_and_profile_refuse_alike(
    kind: str, text: str, toml: Any, env_message: str, profile_message: str
) -> None:
    choices = ("high", "low") if kind == "choice" else ()
    option = Option("X", kind, "doc", "s", profile="x", choices=choices)  # type: ignore[arg-type]
    with pytest.raises(OptionValueError) as from_env:
        from_text(option, text)
    with pytest.raises(OptionValueError) as from_profile:
        from_toml(option, toml)
    assert (str(from_env.value), str(from_profile.value)) == (env_message, profile_message)


def test_bounds_apply_to_both_readers() -> None:
    option = Option("GATEWAY_X_MS", "int", "doc", "s", profile="x_ms", minimum=20, maximum=100)
    assert from_text(option, "") is None
    with pytest.raises(OptionValueError, match=r"^must be at least 20$"):
        from_text(option, "19")
    with pytest.raises(OptionValueError, match=r"^must be at most 100$"):
        from_toml(option, 101)


def test_an_environment_error_names_the_variable() -> None:
    reader = EnvReader({"GATEWAY_TEMPERATURE": "warm", "GATEWAY_PORT": "70000"})
    with pytest.raises(SettingsError, match=r"^GATEWAY_TEMPERATURE must be a number, not 'warm'$"):
        reader.get(opt.TEMPERATURE)
    with pytest.raises(SettingsError, match=r"^GATEWAY_PORT must be at most 65535$"):
        reader.get(opt.PORT)
    assert reader.read == {"GATEWAY_TEMPERATURE", "GATEWAY_PORT"}


def test_a_profile_error_names_the_profile_and_key(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=None)
    document = {"profiles": {"sales": {"vad": {"silence_duration_ms": "long"}}}}
    with pytest.raises(ProfilesFileError) as caught:
        parse_agents(document, settings, None, where="agents.toml", base_dir=tmp_path)
    assert str(caught.value) == (
        'agents.toml: profile "sales": vad.silence_duration_ms: must be a whole number'
    )


def test_a_declared_check_refuses_in_both_readers() -> None:
    with pytest.raises(SettingsError, match=r"^GATEWAY_FALLBACK_NUMBER must be an E.164"):
        EnvReader({"GATEWAY_FALLBACK_NUMBER": "5551234"}).get(opt.FALLBACK_NUMBER)
    with pytest.raises(OptionValueError, match=r"^must name transcript, audio or both$"):
        from_toml(opt.RECORD, ["video"])


def test_an_option_needs_a_name_and_choices_go_with_choice() -> None:
    with pytest.raises(ValueError, match="environment name, a profile key or both"):
        Option(None, "text", "doc", "s")
    with pytest.raises(ValueError, match="choices go with kind 'choice'"):
        Option("X", "text", "doc", "s", choices=("a",))

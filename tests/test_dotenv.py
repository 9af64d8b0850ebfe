"""`.env` mistakes are refused or named, never passed silently, and never echo a value."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.env_reader import SettingsError, parse_dotenv
from gateway.settings import load_settings

SECRET = "s3cr3t-value-0123456789"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"GATEWAY_MODEL=x\n{SECRET}\n", ".env line 2 is not a NAME=VALUE assignment (no '=')"),
        (
            f'GATEWAY_SECRET="{SECRET}\n',
            ".env line 1 (GATEWAY_SECRET): the value's opening \" is not closed on its line "
            "(values cannot span lines; close the quote)",
        ),
        (
            f"TWILIO_AUTH_TOKEN='{SECRET}\n",
            ".env line 1 (TWILIO_AUTH_TOKEN): the value's opening ' is not closed on its line "
            "(values cannot span lines; close the quote)",
        ),
        (
            f'TWILIO_AUTH_TOKEN="{SECRET}"x\n',
            ".env line 1 (TWILIO_AUTH_TOKEN): text after the closing quote",
        ),
        (
            f"\n\nGATEWAY-SECRET={SECRET}\n",
            ".env line 3: the name before '=' is not a valid variable name",
        ),
    ],
)
def test_a_broken_line_is_refused_by_line_number_without_its_text(text: str, message: str) -> None:
    with pytest.raises(SettingsError) as error:
        parse_dotenv(text)
    assert str(error.value) == message
    assert SECRET not in str(error.value)


def test_load_settings_refuses_a_broken_env_file_naming_it(tmp_path: Path) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text(f'GATEWAY_SECRET="{SECRET}\n', encoding="utf-8")
    with pytest.raises(SettingsError) as error:
        load_settings({}, env_file=env_file)
    assert str(error.value).startswith(f"{env_file} line 1 (GATEWAY_SECRET): ")


def test_a_misspelled_gateway_variable_is_named_with_the_close_match(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("GATEWAY_MAX_CALL=10\nGATEWAY_FROBNICATE=1\nOTHER_TOOL=1\n")
    settings = load_settings({"GATEWAY_DRAIN_TIMOUT_S": "5"}, env_file=env_file)
    found = {w.name: (w.source, w.suggestion) for w in settings.env_warnings}
    assert found == {
        "GATEWAY_MAX_CALL": (str(env_file), "GATEWAY_MAX_CALLS"),
        "GATEWAY_FROBNICATE": (str(env_file), None),
        "GATEWAY_DRAIN_TIMOUT_S": ("environment", "GATEWAY_DRAIN_TIMEOUT_S"),
    }
    fields = next(w for w in settings.env_warnings if w.name == "GATEWAY_MAX_CALL").fields()
    assert fields["message"] == (
        "GATEWAY_MAX_CALL is not a gateway variable and is ignored; did you mean GATEWAY_MAX_CALLS?"
    )
    assert "10" not in str(fields)


def test_every_variable_of_the_example_file_is_known() -> None:
    """.env.example lists every variable: none of them may be reported as unknown."""
    example = Path(__file__).resolve().parents[1] / ".env.example"
    names = set()
    for line in example.read_text(encoding="utf-8").splitlines():
        body = line.lstrip("# ").split("=", 1)
        if len(body) == 2 and body[0].startswith("GATEWAY_") and body[0].isidentifier():
            names.add(body[0])
    assert len(names) > 30
    settings = load_settings(dict.fromkeys(names, ""), env_file=None)
    assert settings.env_warnings == ()


def test_a_live_url_that_is_not_a_websocket_is_a_settings_error() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({"GATEWAY_LIVE_URL": "http://127.0.0.1:9100/live"}, env_file=None)
    assert str(error.value) == "GATEWAY_LIVE_URL must be a ws:// or wss:// URL"

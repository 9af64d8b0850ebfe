"""Vonage and Exotel settings: defaults, parsing, refusals, secrets kept out of sight."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.log import redact_text
from gateway.settings import SettingsError, load_settings

PEM = "-----BEGIN PRIVATE KEY-----\nMIIBfake\n-----END PRIVATE KEY-----"


def test_defaults() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.vonage.signature_secret is None
    assert settings.vonage.audio_rate_hz == 16_000
    assert settings.vonage.api_base == "https://api.nexmo.com"
    assert settings.exotel.stream_user is None
    assert settings.exotel.audio_rate_hz == 8_000
    assert not settings.vonage.allow_unsigned
    assert not settings.exotel.allow_unsigned


def test_values_are_read_and_secrets_hidden(tmp_path: Path) -> None:
    key_file = tmp_path / "private.key"
    key_file.write_text(PEM + "\n")
    settings = load_settings(
        {
            "VONAGE_APPLICATION_ID": "app-1",
            "VONAGE_PRIVATE_KEY_FILE": str(key_file),
            "VONAGE_SIGNATURE_SECRET": "vonage-signature-secret",
            "VONAGE_API_BASE": "http://127.0.0.1:9/",
            "VONAGE_AUDIO_RATE": "8000",
            "VONAGE_FROM_NUMBER": "+15550001",
            "EXOTEL_STREAM_USER": "exo-user",
            "EXOTEL_STREAM_PASSWORD": "exotel-stream-password",
            "EXOTEL_AUDIO_RATE": "24000",
            "GATEWAY_UNSIGNED_CARRIERS": "exotel",
        },
        env_file=None,
    )
    vonage, exotel = settings.vonage, settings.exotel
    assert (vonage.application_id, vonage.private_key) == ("app-1", PEM)
    assert vonage.api_base == "http://127.0.0.1:9"
    assert (vonage.audio_rate_hz, vonage.from_number) == (8_000, "+15550001")
    assert (exotel.stream_user, exotel.audio_rate_hz, exotel.allow_unsigned) == (
        "exo-user",
        24_000,
        True,
    )
    shown = repr(vonage) + repr(exotel)
    for secret in ("vonage-signature-secret", "exotel-stream-password", PEM):
        assert secret not in shown
        assert secret not in redact_text(f"x {secret} y")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VONAGE_AUDIO_RATE": "44100"}, "VONAGE_AUDIO_RATE"),
        ({"EXOTEL_AUDIO_RATE": "x"}, "EXOTEL_AUDIO_RATE"),
        ({"VONAGE_PRIVATE_KEY": "not a key"}, "PEM"),
        ({"VONAGE_PRIVATE_KEY": PEM, "VONAGE_PRIVATE_KEY_FILE": "/x"}, "not both"),
        ({"VONAGE_PRIVATE_KEY_FILE": "/nonexistent/key"}, "cannot be read"),
        ({"VONAGE_API_BASE": "ftp://x"}, "VONAGE_API_BASE"),
        ({"EXOTEL_STREAM_USER": "u"}, "EXOTEL_STREAM_PASSWORD"),
    ],
)
def test_refusals(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env, env_file=None)

"""Telnyx, Plivo and SignalWire settings: defaults, parsing, refusals, secrets kept out of sight."""

from __future__ import annotations

import base64

import pytest

from gateway.log import redact_text
from gateway.settings import SettingsError, load_settings

PUBLIC_KEY = base64.b64encode(bytes(range(32))).decode()


def test_defaults_refuse_unsigned_webhooks() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.telnyx.public_key is None
    assert settings.telnyx.codec == "PCMU"
    assert settings.telnyx.api_base == "https://api.telnyx.com"
    assert settings.plivo.content_type == "audio/x-mulaw;rate=8000"
    assert settings.plivo.api_base == "https://api.plivo.com"
    assert settings.signalwire.codec == "PCMU"
    assert settings.signalwire.space_url is None
    assert not settings.signalwire.l16_big_endian
    assert not any(s.allow_unsigned for s in (settings.telnyx, settings.plivo, settings.signalwire))


def test_values_are_read() -> None:
    settings = load_settings(
        {
            "TELNYX_API_KEY": "KEYtelnyx-secret-value",
            "TELNYX_PUBLIC_KEY": PUBLIC_KEY,
            "TELNYX_CODEC": "pcma",
            "TELNYX_API_BASE": "http://127.0.0.1:9/",
            "TELNYX_SIGNATURE_TOLERANCE_S": "60",
            "PLIVO_AUTH_ID": "MAXXXXXXXXXXXXXXXXXX",
            "PLIVO_AUTH_TOKEN": "plivo-secret-token",
            "PLIVO_CONTENT_TYPE": "audio/x-l16; rate=16000",
            "SIGNALWIRE_PROJECT_ID": "p-1",
            "SIGNALWIRE_API_TOKEN": "PTsignalwire-token",
            "SIGNALWIRE_SIGNING_KEY": "PSKsigning-key",
            "SIGNALWIRE_SPACE_URL": "https://example.signalwire.com/",
            "SIGNALWIRE_CODEC": "l16@16000h",
            "SIGNALWIRE_L16_BYTE_ORDER": "big",
            "GATEWAY_UNSIGNED_CARRIERS": "plivo, SignalWire",
        },
        env_file=None,
    )
    assert settings.telnyx.codec == "PCMA"
    assert settings.telnyx.api_base == "http://127.0.0.1:9"
    assert settings.telnyx.signature_tolerance_s == 60
    assert settings.plivo.content_type == "audio/x-l16;rate=16000"
    assert settings.signalwire.codec == "L16@16000h"
    assert settings.signalwire.space_url == "https://example.signalwire.com"
    assert settings.signalwire.l16_big_endian
    assert (settings.telnyx.allow_unsigned, settings.plivo.allow_unsigned) == (False, True)
    assert settings.signalwire.allow_unsigned
    shown = repr(settings.telnyx) + repr(settings.plivo) + repr(settings.signalwire)
    for secret in ("KEYtelnyx-secret-value", "plivo-secret-token", "PTsignalwire-token"):
        assert secret not in shown
        assert secret not in redact_text(f"a line with {secret} in it")
    assert "PSKsigning-key" not in shown


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TELNYX_PUBLIC_KEY": "not-base64!"}, "TELNYX_PUBLIC_KEY"),
        ({"TELNYX_PUBLIC_KEY": base64.b64encode(b"short").decode()}, "TELNYX_PUBLIC_KEY"),
        ({"TELNYX_CODEC": "G722"}, "TELNYX_CODEC"),
        ({"TELNYX_API_BASE": "ftp://x"}, "TELNYX_API_BASE"),
        ({"PLIVO_CONTENT_TYPE": "audio/x-l16;rate=24000"}, "PLIVO_CONTENT_TYPE"),
        ({"SIGNALWIRE_CODEC": "OPUS"}, "SIGNALWIRE_CODEC"),
        ({"SIGNALWIRE_SPACE_URL": "example.signalwire.com"}, "SIGNALWIRE_SPACE_URL"),
        ({"SIGNALWIRE_L16_BYTE_ORDER": "middle"}, "SIGNALWIRE_L16_BYTE_ORDER"),
        ({"GATEWAY_UNSIGNED_CARRIERS": "pigeon"}, "GATEWAY_UNSIGNED_CARRIERS"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env, env_file=None)

"""The `gateway.configured` start-up line: backend, endpoint without secrets, carriers."""

from __future__ import annotations

from gateway.settings import load_settings
from gateway.shell.startup_report import describe, safe_url

KEY = "AIzaSecretKey-0123456789"


MODEL = "gemini-3.1-flash-live-preview"


def _describe(env: dict[str, str], model: str = MODEL) -> dict[str, object]:
    return describe(load_settings(env, env_file=None), {"default": model})


def test_developer_api_endpoint_carries_no_key() -> None:
    fields = _describe({"GEMINI_API_KEY": KEY})
    assert fields["backend"] == "developer api"
    assert fields["endpoint"] == (
        "wss://generativelanguage.googleapis.com/ws/"
        "google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
    )
    assert KEY not in str(fields)
    assert "unknown_models" not in fields


def test_ephemeral_token_and_vertex_backends() -> None:
    assert _describe({"GEMINI_API_KEY": "auth_tokens/" + KEY})["backend"] == "ephemeral token"
    vertex = _describe(
        {"GOOGLE_GENAI_USE_VERTEXAI": "true", "GOOGLE_CLOUD_PROJECT": "proj"},
        "gemini-live-2.5-flash-preview-native-audio",
    )
    assert vertex["backend"] == "vertex"
    assert vertex["endpoint"] == (
        "wss://us-central1-aiplatform.googleapis.com/ws/"
        "google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent"
    )
    assert vertex["vertex_project"] == "proj"


def test_custom_url_loses_user_info_and_query() -> None:
    fields = _describe({"GATEWAY_LIVE_URL": f"wss://user:{KEY}@live.internal:8443/ws?key={KEY}"})
    assert fields["backend"] == "custom url"
    assert fields["endpoint"] == "wss://live.internal:8443/ws"
    assert safe_url("ws://[::1]:9100/live#x") == "ws://[::1]:9100/live"


def test_carrier_states_and_an_unknown_model() -> None:
    env = {
        "GATEWAY_LIVE_URL": "wss://live.internal/ws",  # a real backend: the policy in full
        "TWILIO_AUTH_TOKEN": "tok-0123456789",
        "GATEWAY_UNSIGNED_CARRIERS": "vonage",
    }
    fields = _describe(env, "models/gpt-live")
    assert fields["carriers"] == {
        "twilio": "signed",
        "telnyx": "refused",
        "plivo": "refused",
        "signalwire": "refused",
        "vonage": "unsigned",
        "exotel": "refused",
    }
    # Without its token, Twilio is refused like any other carrier.
    without = {k: v for k, v in env.items() if k != "TWILIO_AUTH_TOKEN"}
    assert _describe(without)["carriers"]["twilio"] == "refused"
    # The embedded emulator (no Live backend configured) takes every carrier unsigned.
    embedded = _describe({"TWILIO_AUTH_TOKEN": "tok-0123456789"})["carriers"]
    assert embedded == {name: "unsigned" for name in embedded} | {"twilio": "signed"}
    assert fields["unknown_models"] == ["gpt-live"]
    assert fields["models"] == {"default": "gpt-live"}
    assert "gpt-live" in str(fields["message"])

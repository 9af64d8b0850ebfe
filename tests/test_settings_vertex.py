"""Backend-dependent settings: default model, wrong-backend models, the API version affective
dialog needs, Vertex credentials and Vertex behind GATEWAY_LIVE_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.live.endpoints import Backend
from gateway.settings import SettingsError, load_settings
from gateway.shell.live_client import endpoint_from_settings

ROOT = Path(__file__).resolve().parents[1]
VERTEX = {"GOOGLE_GENAI_USE_VERTEXAI": "true", "GOOGLE_CLOUD_PROJECT": "p1"}
DEV_MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"
VERTEX_MODEL = "gemini-live-2.5-flash-native-audio"


def test_each_backend_has_its_own_default_model() -> None:
    assert load_settings({}, env_file=None).live.model == f"models/{DEV_MODEL}"
    assert load_settings(VERTEX, env_file=None).live.model == (
        f"projects/p1/locations/us-central1/publishers/google/models/{VERTEX_MODEL}"
    )


def test_a_developer_model_on_vertex_is_refused_naming_both() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({**VERTEX, "GATEWAY_MODEL": DEV_MODEL}, env_file=None)
    assert str(caught.value) == (
        f"GATEWAY_MODEL: model {DEV_MODEL} is a Gemini Developer API model; Vertex AI "
        "(GOOGLE_GENAI_USE_VERTEXAI=true) does not have it and refuses it (1008). On Vertex AI "
        f"use {VERTEX_MODEL}, or use {DEV_MODEL} on the Developer API (GEMINI_API_KEY, "
        "GOOGLE_GENAI_USE_VERTEXAI unset)"
    )


def test_a_vertex_model_on_the_developer_api_is_refused_naming_both() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"GEMINI_API_KEY": "AIza1", "GATEWAY_MODEL": VERTEX_MODEL}, env_file=None)
    assert str(caught.value) == (
        f"GATEWAY_MODEL: model {VERTEX_MODEL} is a Vertex AI model; the Gemini Developer API "
        f"does not have it and refuses it (1008). On the Developer API use {DEV_MODEL}, or use "
        f"{VERTEX_MODEL} on Vertex AI (GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_CLOUD_PROJECT)"
    )


def test_a_model_of_neither_list_is_sent_as_configured() -> None:
    for environ in ({}, VERTEX):
        settings = load_settings(
            {**environ, "GATEWAY_MODEL": "gemini-3.1-flash-live-preview"}, env_file=None
        )
        assert settings.live.model.endswith("/gemini-3.1-flash-live-preview")


@pytest.mark.parametrize("variable", ["GATEWAY_AFFECTIVE_DIALOG", "GATEWAY_PROACTIVE_AUDIO"])
def test_affective_dialog_needs_v1alpha_and_refuses_an_explicit_other_version(
    variable: str,
) -> None:
    settings = load_settings({variable: "true"}, env_file=None)
    assert (settings.live_api_version, settings.live_api_version_explicit) == ("v1beta", False)
    explicit = load_settings({variable: "true", "GATEWAY_LIVE_API_VERSION": "v1alpha"}, None)
    assert (explicit.live_api_version, explicit.live_api_version_explicit) == ("v1alpha", True)
    feature = "affective dialog" if "AFFECTIVE" in variable else "proactive audio"
    with pytest.raises(SettingsError) as caught:
        load_settings({variable: "true", "GATEWAY_LIVE_API_VERSION": "v1beta"}, env_file=None)
    assert str(caught.value) == (
        f"GATEWAY_LIVE_API_VERSION: {feature} needs API version v1alpha on the Developer API, "
        "but GATEWAY_LIVE_API_VERSION is v1beta; unset it (the gateway then picks v1alpha) or "
        "set it to v1alpha"
    )
    # Off, the version is free; on Vertex the Developer API's versions do not apply.
    load_settings({variable: "false", "GATEWAY_LIVE_API_VERSION": "v1beta"}, env_file=None)
    load_settings({**VERTEX, variable: "true", "GATEWAY_LIVE_API_VERSION": "v1"}, env_file=None)


def test_vertex_at_a_live_url_speaks_vertex_with_the_fixed_token() -> None:
    url = "wss://vertex-proxy.example:8443/ws/private"
    settings = load_settings(
        {**VERTEX, "GATEWAY_LIVE_URL": url, "GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.fixed"},
        env_file=None,
    )
    assert settings.vertex_access_token == "ya29.fixed"
    assert "ya29" not in repr(settings)
    endpoint = endpoint_from_settings(settings)
    assert endpoint.backend is Backend.VERTEX
    assert endpoint.url == url
    assert endpoint.headers == (("Authorization", "Bearer ya29.fixed"),)
    assert "ya29" not in repr(endpoint)
    assert settings.live.model.startswith("projects/p1/locations/us-central1/publishers/")
    # A URL without a path is a base: the Vertex path is appended.
    base = load_settings(
        {**VERTEX, "GATEWAY_LIVE_URL": "ws://127.0.0.1:9100", "GOOGLE_OAUTH_ACCESS_TOKEN": "t"},
        env_file=None,
    )
    assert endpoint_from_settings(base).url == (
        "ws://127.0.0.1:9100/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent"
    )
    developer = load_settings({"GATEWAY_LIVE_URL": "ws://127.0.0.1:9100"}, env_file=None)
    assert endpoint_from_settings(developer).url == (
        "ws://127.0.0.1:9100/ws/google.ai.generativelanguage.v1beta.GenerativeService"
        ".BidiGenerateContent"
    )
    assert endpoint_from_settings(developer, api_version="v1alpha").url.endswith(
        ".v1alpha.GenerativeService.BidiGenerateContent"
    )


_WITHOUT_GOOGLE_AUTH = """
import sys
from importlib.abc import MetaPathFinder

class NoGoogleAuth(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "google.auth" or name.startswith("google.auth."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoGoogleAuth())
from gateway.cli import main
sys.exit(main(["serve", "--host", "127.0.0.1", "--port", "0", "--env-file", "none"]))
"""


@pytest.mark.parametrize("token", [None, "ya29.fixed"])
def test_vertex_without_google_auth_stops_start_up_unless_a_token_is_given(
    token: str | None, tmp_path: Path
) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "GOOGLE_"))}
    environ.pop("GEMINI_API_KEY", None)
    environ.update(VERTEX, LOG_FORMAT="json", PYTHONPATH=str(ROOT))
    if token is not None:  # start-up then goes past the settings: a bad model stops it there
        environ.update(GOOGLE_OAUTH_ACCESS_TOKEN=token, GATEWAY_MODEL=DEV_MODEL)
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_GOOGLE_AUTH],
        env=environ,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [(line["event"], line["level"]) for line in lines] == [("config.invalid", "error")]
    error = lines[0]["error"]
    if token is None:
        assert error == (
            "GOOGLE_GENAI_USE_VERTEXAI=true needs google-auth for Application Default "
            "Credentials, and it is not installed: pip install 'gateway[vertex]' (the container "
            "image has it), or set GOOGLE_OAUTH_ACCESS_TOKEN to a bearer token"
        )
    else:
        assert error.startswith(f"GATEWAY_MODEL: model {DEV_MODEL} is a Gemini Developer API")
    assert "Traceback" not in done.stdout + done.stderr
    assert "ya29" not in done.stdout + done.stderr

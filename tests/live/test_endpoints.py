"""Endpoints and credentials (protocols.md A.1)."""

from __future__ import annotations

import pytest

from gateway.live.endpoints import (
    Backend,
    LiveEndpoint,
    custom_endpoint,
    developer_endpoint,
    vertex_endpoint,
    vertex_host,
)


def test_developer_api_key_in_header_not_url() -> None:
    assert developer_endpoint("AIzaSECRET") == LiveEndpoint(
        url="wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta."
        "GenerativeService.BidiGenerateContent",
        headers=(("x-goog-api-key", "AIzaSECRET"),),
        backend=Backend.DEVELOPER,
    )
    assert "SECRET" not in repr(developer_endpoint("AIzaSECRET"))


def test_ephemeral_token_uses_the_v1alpha_constrained_method() -> None:
    endpoint = developer_endpoint("auth_tokens/abc", api_version="v1beta")
    assert endpoint.url == (
        "wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1alpha."
        "GenerativeService.BidiGenerateContentConstrained"
    )
    assert endpoint.headers == (
        ("Authorization", "Token auth_tokens/abc"),
        ("x-goog-api-key", "auth_tokens/abc"),
    )
    assert endpoint.backend is Backend.EPHEMERAL


@pytest.mark.parametrize(
    ("location", "host"),
    [
        ("global", "aiplatform.googleapis.com"),
        ("us", "aiplatform.us.rep.googleapis.com"),
        ("eu", "aiplatform.eu.rep.googleapis.com"),
        ("europe-west4", "europe-west4-aiplatform.googleapis.com"),
    ],
)
def test_vertex_hosts(location: str, host: str) -> None:
    assert vertex_host(location) == host


def test_vertex_bearer_token() -> None:
    endpoint = vertex_endpoint("ya29.TOKEN", location="us-central1")
    assert endpoint.url == (
        "wss://us-central1-aiplatform.googleapis.com/ws/google.cloud.aiplatform.v1beta1."
        "LlmBidiService/BidiGenerateContent"
    )
    assert endpoint.headers == (("Authorization", "Bearer ya29.TOKEN"),)
    assert "TOKEN" not in repr(endpoint)


def test_custom_url_verbatim() -> None:
    assert custom_endpoint("ws://127.0.0.1:9000/live") == LiveEndpoint(
        "ws://127.0.0.1:9000/live", (), Backend.CUSTOM
    )
    assert custom_endpoint("wss://proxy/x", api_key="k").headers == (("x-goog-api-key", "k"),)
    with pytest.raises(ValueError, match="ws://"):
        custom_endpoint("https://x")

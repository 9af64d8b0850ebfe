"""Exotel Basic credentials and the stream URL handed back."""

from __future__ import annotations

import base64

import pytest

from gateway.carriers.exotel.auth import basic_credentials, check_basic, stream_url


def _basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_basic_credentials() -> None:
    assert basic_credentials(_basic("key:to:ken")) == ("key", "to:ken")
    assert basic_credentials("basic " + base64.b64encode(b"a:").decode()) == ("a", "")
    for bad in (None, "", "Bearer x", "Basic !!", _basic("no-colon")):
        assert basic_credentials(bad) is None


def test_check_basic() -> None:
    assert check_basic(_basic("key:secret"), "key", "secret")
    assert not check_basic(_basic("key:secreT"), "key", "secret")
    assert not check_basic(_basic("kez:secret"), "key", "secret")
    assert not check_basic(None, "key", "secret")


def test_stream_url() -> None:
    url = stream_url(
        "wss://gw.example/exotel/media",
        {"sample-rate": "8000", "stream_token": "a.b"},
        ("key", "p@ss/word"),
    )
    assert (
        url == "wss://key:p%40ss%2Fword@gw.example/exotel/media?sample-rate=8000&stream_token=a.b"
    )
    assert stream_url("ws://127.0.0.1:1/m", {"a": "1"}) == "ws://127.0.0.1:1/m?a=1"


def test_exotels_parameter_limits() -> None:
    with pytest.raises(ValueError, match="at most"):
        stream_url("wss://h/m", {"a": "1", "b": "2", "c": "3", "d": "4"})
    with pytest.raises(ValueError, match="at most"):
        stream_url("wss://h/m", {"t": "x" * 300})

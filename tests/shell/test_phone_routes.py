"""The softphone's routes: mounted only when enabled; the key asked for behind a public URL."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from gateway.settings import load_settings
from gateway.shell.app import build_app
from gateway.shell.connector import LiveConnector
from gateway.shell.phone_routes import phone_enabled

LIVE = {"GATEWAY_LIVE_URL": "ws://127.0.0.1:1/live", "GATEWAY_SECRET": "p" * 32}
KEY = "phone-key-0123456789"
BODY = json.dumps({"call": "BR1", "from": "+15550100", "to": ""})


def _client(env: dict[str, str], base_url: str = "http://127.0.0.1:8080") -> TestClient:
    settings = load_settings(env, env_file=None)
    app = build_app(settings, LiveConnector.from_settings(settings))
    return TestClient(app, base_url=base_url)


def _paths(client: TestClient) -> set[str]:
    return {getattr(route, "path", "") for route in client.app.routes}  # type: ignore[attr-defined]


def test_off_with_a_real_model_unless_asked() -> None:
    assert "/phone" not in _paths(_client(LIVE))
    assert "/phone" not in _paths(_client({**LIVE, "GATEWAY_DEV_PHONE": "false"}))
    on = _client({**LIVE, "GATEWAY_DEV_PHONE": "true"})
    assert {"/phone", "/phone/call", "/phone/media", "/phone/setup"} <= _paths(on)
    assert phone_enabled(load_settings({}, env_file=None))  # the embedded emulator
    assert not phone_enabled(load_settings({"GATEWAY_DEV_PHONE": "false"}, env_file=None))


def test_the_page_and_its_files_are_served() -> None:
    with _client({**LIVE, "GATEWAY_DEV_PHONE": "true"}) as client:
        page = client.get("/phone")
        assert page.status_code == 200
        assert '<script src="/phone/static/phone.js">' in page.text
        for name, kind in (("phone.js", "javascript"), ("worklets.js", "javascript")):
            response = client.get(f"/phone/static/{name}")
            assert response.status_code == 200
            assert kind in response.headers["content-type"]
        assert client.get("/phone/static/style.css").headers["content-type"].startswith("text/css")
        assert client.get("/phone/static/index.html").status_code == 404
        assert client.get("/phone/static/..%2Fplugin.py").status_code == 404
        setup = client.get("/phone/setup").json()
        assert setup == {
            "profiles": [{"name": "default", "number": ""}],
            "key_required": False,
            "last_report": None,
        }
        assert client.get("/phone/report").status_code == 404


def test_a_local_call_gets_a_token_and_a_stream() -> None:
    with _client({**LIVE, "GATEWAY_DEV_PHONE": "true"}) as client:
        response = client.post("/phone/call", content=BODY)
        assert response.status_code == 200
        answer = response.json()
        assert answer["call"] == "BR1"
        assert answer["stream"] == "ws://127.0.0.1:8080/phone/media"
        assert answer["token"]
        assert client.post("/phone/call", content="{}").status_code == 400


def test_behind_a_public_url_the_key_is_asked_for() -> None:
    public = {**LIVE, "GATEWAY_DEV_PHONE": "true", "GATEWAY_PUBLIC_URL": "https://gw.example.com"}
    with _client(public) as client:
        assert client.get("/phone/setup").json()["key_required"] is True
        refused = client.post("/phone/call", content=BODY)
        assert refused.status_code == 403
        assert refused.text == "GATEWAY_API_KEY not set (needed behind a public URL)"
    with _client({**public, "GATEWAY_API_KEY": KEY}) as client:
        assert client.post("/phone/call", content=BODY).status_code == 403
        assert client.get("/phone/report").status_code == 403  # it holds the call's words
        keyed = {"authorization": f"Bearer {KEY}"}
        assert client.get("/phone/report", headers=keyed).status_code == 404  # no call yet
        wrong = {"authorization": "Bearer nope"}
        assert client.post("/phone/call", content=BODY, headers=wrong).status_code == 403
        right = {"authorization": f"Bearer {KEY}"}
        response = client.post("/phone/call", content=BODY, headers=right)
        assert response.status_code == 200
        assert response.json()["stream"] == "wss://gw.example.com/phone/media"
    with _client({**LIVE, "GATEWAY_DEV_PHONE": "true"}, "http://gw.lan:8080") as client:
        assert client.post("/phone/call", content=BODY).status_code == 403


def test_the_page_offers_every_profile_a_number_reaches(tmp_path: Path) -> None:
    agents = tmp_path / "agents.toml"
    agents.write_text(
        'default = "support"\n'
        '[profiles.sales]\nnumbers = ["+15550001111", "+15550001112"]\n'
        '[profiles.support]\nnumbers = ["+15550002222"]\n'
        "[profiles.unreachable]\n",
        encoding="utf-8",
    )
    env = {**LIVE, "GATEWAY_DEV_PHONE": "true", "GATEWAY_AGENTS_FILE": str(agents)}
    with _client(env) as client:
        assert client.get("/phone/setup").json()["profiles"] == [
            {"name": "sales", "number": "+15550001111"},
            {"name": "support", "number": "+15550002222"},
        ]
        body = json.dumps({"call": "BR2", "from": "+15550100", "to": "+15550001111"})
        assert client.post("/phone/call", content=body).status_code == 200

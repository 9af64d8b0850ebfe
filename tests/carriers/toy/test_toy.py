"""A carrier registered from the test suite alone gets routes, a simulated and an e2e call.

Nothing outside tests/carriers/toy/ knows the toy: `registry.register(TOY)` adds it for the
block; the settings read its variable, the app mounts `/toy/...`, the simulator speaks it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from starlette.routing import BaseRoute
from starlette.testclient import TestClient

from gateway.carriers import registry
from gateway.emulator import LiveEmulator
from gateway.settings import SettingsError, load_settings
from gateway.shell.app import build_app
from gateway.shell.connector import LiveConnector
from gateway.shell.warmup import carrier_rest_origins
from gateway.sim.call import place_call
from gateway.sim.carriers import carrier_names, sim_carrier
from gateway.sim.cli import forbidden_hint
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.script import SimOptions
from tests.carriers.toy.plugin import TOY, ToyPlugin, ToySettings
from tests.carriers.toy.sim import ToyDialect
from tests.e2e.harness import running_gateway, wait_for

SECRET = "toy-secret-0123456789"
ENV = {"GATEWAY_LIVE_URL": "ws://127.0.0.1:1/live", "GATEWAY_SECRET": "t" * 32}
RECORDING = Path(__file__).parents[2] / "recordings" / "greeting_question.wav"


@pytest.fixture
def toy() -> Iterator[None]:
    with registry.register(TOY):
        yield


def _paths(routes: list[BaseRoute]) -> set[str]:
    return {getattr(route, "path", "") for route in routes}


def _client(env: dict[str, str]) -> TestClient:
    settings = load_settings({**ENV, **env}, env_file=None)
    return TestClient(build_app(settings, LiveConnector.from_settings(settings)))


def _webhook(client: TestClient, secret: str | None, call: str = "T1") -> tuple[int, str]:
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["x-toy-secret"] = secret
    body = json.dumps({"call": call, "from": "+15550001", "to": "+15550002"})
    response = client.post("/toy/voice", content=body, headers=headers)
    return response.status_code, response.text


def test_only_a_registered_toy_is_known() -> None:
    assert "toy" not in registry.carrier_names()
    assert "toy" not in carrier_names()
    with pytest.raises(SettingsError, match="GATEWAY_UNSIGNED_CARRIERS"):
        load_settings({**ENV, "GATEWAY_UNSIGNED_CARRIERS": "toy"}, env_file=None)


def test_the_toy_gets_its_settings_and_routes(toy: None) -> None:
    settings = load_settings({**ENV, "TOY_SECRET": SECRET}, env_file=None)
    assert settings.carrier("toy") == ToySettings(SECRET, allow_unsigned=False)
    assert "toy" in registry.carrier_names()
    app = build_app(settings, LiveConnector.from_settings(settings))
    assert {"/toy/voice", "/toy/status", "/toy/media"} <= _paths(app.routes)


def test_the_toy_webhook_is_checked_answered_and_its_status_logged(toy: None) -> None:
    with _client({"TOY_SECRET": SECRET}) as client:
        assert _webhook(client, None) == (403, "invalid signature")
        assert _webhook(client, SECRET + "x") == (403, "invalid signature")
        status, text = _webhook(client, SECRET)
        assert status == 200
        answer = json.loads(text)
        assert answer["stream"] == "ws://testserver/toy/media"
        assert answer["token"]
        assert client.app.state.gateway.webhooks_rejected == 2
        body = json.dumps({"call": "T1", "event": "started"})
        status_response = client.post("/toy/status", content=body, headers={"x-toy-secret": SECRET})
        assert status_response.status_code == 204


def test_the_toy_without_its_secret_is_refused_unless_named_unsigned(toy: None) -> None:
    with _client({}) as client:
        assert _webhook(client, None) == (403, "invalid signature")
    with _client({"GATEWAY_UNSIGNED_CARRIERS": "toy"}) as client:
        assert _webhook(client, None)[0] == 200


def test_the_simulator_speaks_the_toy_through_its_descriptor(toy: None) -> None:
    assert "toy" in carrier_names()
    carrier = sim_carrier("toy")
    assert (carrier.secret_env, carrier.secret_help) == ("TOY_SECRET", "the shared secret")
    dialect = carrier.dialect()
    assert isinstance(dialect, ToyDialect)
    request = dialect.webhook("http://gw", SimOptions(auth_token=SECRET, call_sid="T9"))
    assert request.url == "http://gw/toy/voice"
    assert ("X-Toy-Secret", SECRET) in request.headers
    assert json.loads(request.body or b"{}")["call"] == "T9"


def test_the_start_up_warm_up_and_the_403_hint_take_the_toy_from_its_descriptor() -> None:
    """No table outside the folder names a carrier: the REST host resolved at start-up and the
    simulator's 403 hint come from the plug-in (`rest_base`, `secret_name`)."""

    class RestToy(ToyPlugin):
        def rest_base(self, settings: ToySettings) -> str | None:
            return "https://api.toy.example" if settings.secret else None

    with registry.register(RestToy()):
        settings = load_settings({**ENV, "TOY_SECRET": SECRET}, env_file=None)
        assert carrier_rest_origins(settings) == ["https://api.toy.example"]
        assert carrier_rest_origins(load_settings(ENV, env_file=None)) == []
        hint = forbidden_hint("toy", signed=False)
    assert "toy webhooks are refused while the gateway has no TOY_SECRET" in hint
    assert "this call was not signed (TOY_SECRET is not set here)" in hint


async def test_an_end_to_end_toy_call_through_the_real_gateway(toy: None) -> None:
    recording = load_recording(RECORDING)
    dialect = sim_carrier("toy").dialect()
    options = SimOptions(auth_token=SECRET, speed=2.0)
    async with (
        LiveEmulator() as emulator,
        running_gateway(emulator, {"TOY_SECRET": SECRET}) as gateway,
    ):
        report = await place_call(gateway.base_url, recording.script, options, dialect=dialect)
        await wait_for(lambda: len(gateway.calls) == 1)
    assert report.outcome is CallOutcome.COMPLETED, report.errors
    assert report.webhook_status == 200
    [call] = gateway.calls
    assert (call.carrier, call.call_id) == ("toy", options.call_sid)
    assert call.summary["illegal_events"] == 0
    assert call.summary["messages_ignored"] == 0
    [session] = emulator.recorder.sessions
    assert len(session.audio()) > 0  # the caller's audio reached Live
    assert np.abs(report.heard).max() > 0  # and the caller heard the emulator's answer

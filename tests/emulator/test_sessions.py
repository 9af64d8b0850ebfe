"""Admission, handles and resumption in the session registry."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.emulator.config import EmulatorConfig
from gateway.emulator.outputs import Memory
from gateway.emulator.recorder import Recorder
from gateway.emulator.scenario import Scenario, SetupRejection
from gateway.emulator.schema import ClientMessageError
from gateway.emulator.sessions import SessionRegistry

SETUP: dict[str, Any] = {"model": "models/m"}


def registry(
    config: EmulatorConfig | None = None, scenario: Scenario | None = None
) -> SessionRegistry:
    return SessionRegistry(config or EmulatorConfig(), scenario or Scenario(), Recorder())


def test_new_session_then_resume_with_the_handles_memory() -> None:
    sessions = registry()
    session, memory = sessions.admit(key=None, setup=SETUP, api_version="v1beta", now_s=0.0)
    assert memory == Memory()
    saved = Memory(caller_turns=2, model_turns=2, heard=("x",))
    handle = sessions.issue_handle(session, saved, 1.0)
    session.active = object()
    resume = {**SETUP, "sessionResumption": {"handle": handle}}
    with pytest.raises(ClientMessageError) as caught:
        sessions.admit(key=None, setup=resume, api_version="v1beta", now_s=2.0)
    assert caught.value.code == 1011
    session.active = None
    again, restored = sessions.admit(key=None, setup=resume, api_version="v1beta", now_s=2.0)
    assert again is session
    assert restored == saved


def test_expired_and_forged_handles_are_refused() -> None:
    sessions = registry(EmulatorConfig(handle_ttl_s=10))
    session, _ = sessions.admit(key=None, setup=SETUP, api_version="v1beta", now_s=0.0)
    handle = sessions.issue_handle(session, Memory(), 0.0)
    for forged, now in ((handle, 10.5), ("forged", 1.0)):
        setup = {**SETUP, "sessionResumption": {"handle": forged}}
        with pytest.raises(ClientMessageError) as caught:
            sessions.admit(key=None, setup=setup, api_version="v1beta", now_s=now)
        assert (caught.value.code, caught.value.reason) == (
            1008,
            "The session resumption handle is invalid or expired.",
        )


@pytest.mark.parametrize(
    ("setup", "key", "code"),
    [
        (SETUP, "bad", 1007),
        ({}, "good", 1007),
        ({"model": "gemini-x"}, "good", 1008),
        ({"model": "models/other"}, "good", 1008),
        ({**SETUP, "generationConfig": {"responseModalities": ["TEXT"]}}, "good", 1007),
    ],
)
def test_refusals(setup: dict[str, Any], key: str, code: int) -> None:
    config = EmulatorConfig(api_keys=frozenset({"good"}), models=frozenset({"models/m"}))
    with pytest.raises(ClientMessageError) as caught:
        registry(config).admit(key=key, setup=setup, api_version="v1alpha", now_s=0.0)
    assert caught.value.code == code


def test_scripted_rejections_count_down() -> None:
    sessions = registry(scenario=Scenario(reject_setups=SetupRejection(count=2, code=1011)))
    for _ in range(2):
        with pytest.raises(ClientMessageError):
            sessions.admit(key=None, setup=SETUP, api_version="v1beta", now_s=0.0)
    sessions.admit(key=None, setup=SETUP, api_version="v1beta", now_s=0.0)


def test_a_closing_old_socket_does_not_block_the_resume() -> None:
    sessions = SessionRegistry(EmulatorConfig(), Scenario(), Recorder(), is_open=lambda c: False)
    session, _ = sessions.admit(key=None, setup=SETUP, api_version="v1beta", now_s=0.0)
    handle = sessions.issue_handle(session, Memory(), 0.0)
    session.active = object()
    resume = {**SETUP, "sessionResumption": {"handle": handle}}
    again, _ = sessions.admit(key=None, setup=resume, api_version="v1beta", now_s=1.0)
    assert again is session

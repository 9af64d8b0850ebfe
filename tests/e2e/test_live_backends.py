"""The real gateway against the emulator as strict as each backend: Vertex and the Developer API.

* Vertex at GATEWAY_LIVE_URL (the emulator's Vertex mode: the Vertex path, a bearer token
  required, the model as `projects/…/publishers/google/models/…`): a NON_BLOCKING tool with a
  `scheduling` is answered without `scheduling` (Vertex closes 1007 on it), and the call goes on
  to the caller's next turn; the call comes without an `id` (the Vertex mode's default) and is
  answered without one; with ids on, the answer echoes the id.
* The Developer API with affective dialog on: the gateway picks `v1alpha` by itself (the
  emulator refuses the field over `v1beta`), says so in its log, and the call is answered.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from gateway.emulator import EmulatorConfig, LiveEmulator, Scenario, ToolCallRule
from gateway.emulator.config import Backend
from gateway.emulator.recorder import SessionRecord
from gateway.shell.runtime import CallRecord
from gateway.sim.call import place_call
from gateway.sim.entries import CallOutcome
from gateway.sim.recording import load_recording
from gateway.sim.report import CallReport
from gateway.sim.script import SimOptions
from tests.e2e.harness import ACCOUNT_SID, AUTH_TOKEN, running_gateway, wait_for

ROOT = Path(__file__).resolve().parents[2]
RECORDING = ROOT / "tests" / "recordings" / "greeting_question.wav"
TOKEN = "ya29.e2e-vertex-token"
TOOLS = """
[[tools]]
name = "business_hours"
kind = "python"
description = "Our opening hours for one day of the week."
function = "gateway.examples.tools:business_hours"
non_blocking = true
scheduling = "WHEN_IDLE"

[tools.parameters]
type = "object"

[tools.parameters.properties.day]
type = "string"
"""
HOURS = {"day": "monday", "open": True, "hours": "09:00-17:00"}


async def _call(
    emulator: LiveEmulator, env: dict[str, str]
) -> tuple[CallReport, CallRecord, SessionRecord]:
    options = SimOptions(auth_token=AUTH_TOKEN, account_sid=ACCOUNT_SID)
    script = load_recording(RECORDING).script
    async with running_gateway(emulator, env) as gateway:
        report = await place_call(gateway.base_url, script, options)
        await wait_for(lambda: len(gateway.calls) == 1, 15)
        await wait_for(lambda: gateway.runtime.active_calls == 0, 15)
    (session,) = emulator.recorder.sessions
    return report, gateway.calls[0], session


def _vertex_env(emulator: LiveEmulator, tmp_path: Path) -> dict[str, str]:
    tools = tmp_path / "tools.toml"
    tools.write_text(TOOLS, encoding="utf-8")
    return {
        "GATEWAY_LIVE_URL": emulator.url,  # the Vertex path of the Vertex mode
        "GOOGLE_GENAI_USE_VERTEXAI": "true",
        "GOOGLE_CLOUD_PROJECT": "e2e-project",
        "GOOGLE_CLOUD_LOCATION": "europe-west4",
        "GOOGLE_OAUTH_ACCESS_TOKEN": TOKEN,
        "GATEWAY_TOOLS_FILE": str(tools),
    }


@pytest.mark.parametrize("call_ids", [False, True], ids=["without-id", "with-id"])
def test_a_non_blocking_tool_on_vertex_is_answered_and_the_call_goes_on(
    call_ids: bool, tmp_path: Path
) -> None:
    rule = ToolCallRule("business_hours", {"day": "monday"}, on_turn=1, say_ms=1200)
    config = EmulatorConfig(
        backend=Backend.VERTEX, vertex_call_ids=call_ids, api_keys=frozenset({TOKEN})
    )

    async def body() -> tuple[CallReport, CallRecord, SessionRecord]:
        async with LiveEmulator(config, Scenario(tool_calls=(rule,))) as emulator:
            return await _call(emulator, _vertex_env(emulator, tmp_path))

    report, call, session = asyncio.run(body())
    assert session.setups[0]["model"] == (
        "projects/e2e-project/locations/europe-west4/publishers/google/models/"
        "gemini-live-2.5-flash-native-audio"
    )
    declaration = session.setups[0]["tools"][0]["functionDeclarations"][0]
    assert (declaration["name"], declaration["behavior"]) == ("business_hours", "NON_BLOCKING")
    expected: dict[str, Any] = {"name": "business_hours", "response": {"output": HOURS}}
    if call_ids:
        expected = {"id": f"function-call-{session.session_id[:8]}-1-1", **expected}
    assert session.tool_responses == [expected]  # no scheduling, and an id only if one came
    # The session was never refused: the only close is the gateway's own at the call's end.
    assert [code for _, code, _ in session.closes] == [1000]
    assert session.connections == 1
    # The call went on after the answer: the caller's second turn was heard and answered.
    utterances = len(load_recording(RECORDING).script.utterances)
    assert len(session.utterances) == utterances
    assert call.summary["tool_calls"] == 1
    assert [(t["name"], t["outcome"]) for t in call.summary["tools"]] == [("business_hours", "ok")]
    assert report.outcome is CallOutcome.COMPLETED, report.errors


def test_affective_dialog_connects_on_v1alpha_by_itself() -> None:
    async def body() -> tuple[CallReport, CallRecord, SessionRecord, list[dict[str, Any]]]:
        async with LiveEmulator(EmulatorConfig()) as emulator:
            env = {
                # A base URL: the gateway appends the Developer API path with its version.
                "GATEWAY_LIVE_URL": f"ws://127.0.0.1:{emulator.port}",
                "GATEWAY_AFFECTIVE_DIALOG": "true",
            }
            with capture_logs() as logs:
                outcome = await _call(emulator, env)
            assert emulator.recorder.refused == []
            return (*outcome, logs)

    report, _record, session, logs = asyncio.run(body())
    assert session.setups[0]["generationConfig"]["enableAffectiveDialog"] is True
    assert [code for _, code, _ in session.closes] == [1000]
    assert len(session.utterances) == len(load_recording(RECORDING).script.utterances)
    selected = [line for line in logs if line["event"] == "live.api_version_selected"]
    assert selected == [
        {
            "event": "live.api_version_selected",
            "log_level": "info",
            "api_version": "v1alpha",
            "model": "models/gemini-2.5-flash-native-audio-preview-12-2025",
            "because": "affective dialog",
            "component": "live",
        }
    ]
    assert report.outcome is CallOutcome.COMPLETED, report.errors

"""GatewayServices: the tools file declared to Live, per-call services, bridge options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.agents.profile import AgentProfile
from gateway.env_reader import SettingsError
from gateway.live.events import FunctionCall
from gateway.live.setup import LiveConfig
from gateway.settings import load_settings
from gateway.shell.connector import LiveConnector
from gateway.shell.runtime import StreamGrant
from gateway.shell.services import GatewayServices
from gateway.tools.config import ToolsFileError
from tests.loopback import serve_app
from tests.tools.probe import probe_app

TOOLS = """
[[tools]]
name = "business_hours"
kind = "python"
description = "Opening hours."
function = "gateway.examples.tools:business_hours"

[[tools]]
name = "end_call"
kind = "hang_up"
description = "End the call."
"""


def _settings(tmp_path: Path, tools: str | None, **env: str) -> Any:
    environ = {"GATEWAY_LIVE_URL": "ws://127.0.0.1:9/live", **env}
    if tools is not None:
        path = tmp_path / "tools.toml"
        path.write_text(tools, encoding="utf-8")
        environ["GATEWAY_TOOLS_FILE"] = str(path)
    return load_settings(environ, env_file=None)


async def test_the_tools_file_is_declared_to_live_and_named_to_the_bridge(tmp_path: Path) -> None:
    settings = _settings(tmp_path, TOOLS, GATEWAY_FALLBACK_NUMBER="+15550001111")
    connector = LiveConnector.from_settings(settings)
    services = GatewayServices.load(settings, connector)
    try:
        assert [tool.name for tool in connector.config.tools] == ["business_hours", "end_call"]
        options = services.bridge_options()
        assert options.tool_names == frozenset({"business_hours", "end_call"})
        assert options.fallback_number == "+15550001111"
        assert options.playback_lead_ms == settings.server.playback_lead_ms
    finally:
        await services.aclose()


async def test_without_a_tools_file_nothing_is_declared(tmp_path: Path) -> None:
    settings = _settings(tmp_path, None)
    connector = LiveConnector.from_settings(settings)
    services = GatewayServices.load(settings, connector)
    try:
        assert connector.config.tools == ()
        assert services.bridge_options().tool_names == frozenset()
        assert services.bridge_options().fallback_number is None
        assert services.for_call("twilio", None).tools is None
    finally:
        await services.aclose()


def test_a_bad_tools_file_stops_start_up_with_its_message(tmp_path: Path) -> None:
    settings = _settings(tmp_path, '[[tools]]\nname = "x"\nkind = "teleport"\n')
    with pytest.raises(ToolsFileError, match='"x"'):
        GatewayServices.load(settings, LiveConnector.from_settings(settings))


class _Connector:
    def __init__(self) -> None:
        self.opened: list[tuple[str | None, str | None]] = []
        self.configs: list[LiveConfig | None] = []

    async def open(
        self,
        *,
        resume_handle: str | None = None,
        context: str | None = None,
        config: LiveConfig | None = None,
    ) -> Any:
        self.opened.append((resume_handle, context))
        self.configs.append(config)
        return "session"


async def test_each_call_gets_its_services(tmp_path: Path) -> None:
    settings = _settings(tmp_path, TOOLS)
    connector = LiveConnector.from_settings(settings)
    services = GatewayServices.load(settings, connector)
    fake = _Connector()
    services.connector = fake  # type: ignore[assignment]
    try:
        call = services.for_call("twilio", None)
        assert call.open_session is not None
        assert await call.open_session("h1", None) == "session"
        assert await call.open_session(None, "caller: hi") == "session"
        assert fake.opened == [("h1", None), (None, "caller: hi")]
        assert call.tool_context is not None
        context = call.tool_context("CA123")
        assert (context.carrier, context.carrier_call_id) == ("twilio", "CA123")
        assert context.http is services.http
        assert call.tools is services.toolbox
        assert call.control_client is services.control_client
        assert call.tools is not None
        finished = await call.tools.run(FunctionCall("fc-1", "end_call", {}), context)
        assert finished.call_id == "fc-1"
        assert finished.action is not None
    finally:
        await services.aclose()


async def test_a_call_gets_its_agents_setup_and_numbers(tmp_path: Path) -> None:
    settings = _settings(tmp_path, TOOLS)
    services = GatewayServices.load(settings, LiveConnector.from_settings(settings))
    fake = _Connector()
    services.connector = fake  # type: ignore[assignment]
    profile = AgentProfile(
        "sales",
        LiveConfig(voice="Puck"),
        tool_names=("end_call",),
        speaks_first=True,
        greeting_prompt="Hello first.",
    )
    try:
        call = services.for_call(
            "twilio", None, StreamGrant(profile, "+15557654321", "+15550001111")
        )
        assert call.open_session is not None
        await call.open_session("h1", None)
        assert fake.configs == [profile.live]  # replacements keep the agent's setup
        assert call.tool_context is not None
        context = call.tool_context("CA1")
        assert (context.from_number, context.to_number) == ("+15557654321", "+15550001111")
        options = services.bridge_options(profile)
        assert options.tool_names == frozenset({"end_call"})
        assert options.greeting_text == "Hello first."
        assert services.bridge_options().greeting_text is None  # the default agent waits
    finally:
        await services.aclose()


async def test_the_policy_timeouts_reach_the_bridge_from_the_settings(tmp_path: Path) -> None:
    # Issue 15: GATEWAY_STREAM_START_TIMEOUT_S changed the shell's wait, not the bridge's own
    # fixed 10 s. The bridge's options (the one place policy timeouts live) now carry it.
    settings = _settings(
        tmp_path, TOOLS, GATEWAY_STREAM_START_TIMEOUT_S="3.5", GATEWAY_LIVE_STALL_TIMEOUT_S="7"
    )
    services = GatewayServices.load(settings, LiveConnector.from_settings(settings))
    try:
        profile = services.agents.select(None)
        for options in (services.bridge_options(), services.bridge_options(profile)):
            assert options.start_timeout_ms == 3_500
            assert options.live_stall_timeout_ms == 7_000
        defaults = GatewayServices.load(
            _settings(tmp_path, None), LiveConnector.from_settings(settings)
        )
        try:
            assert defaults.bridge_options().start_timeout_ms == 10_000
            assert defaults.bridge_options().live_stall_timeout_ms == 20_000
        finally:
            await defaults.aclose()
    finally:
        await services.aclose()


@pytest.mark.parametrize("value", ["0", "nan", "inf", "-1", "soon"])
def test_a_stall_timeout_that_is_not_a_positive_number_stops_start_up(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(SettingsError, match="GATEWAY_LIVE_STALL_TIMEOUT_S"):
        _settings(tmp_path, None, GATEWAY_LIVE_STALL_TIMEOUT_S=value)


async def test_the_tools_limits_reach_the_bridge_and_rest_has_its_own_client(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path, "[limits]\nmax_running_per_call = 3\nthreads = 2\n" + TOOLS)
    services = GatewayServices.load(settings, LiveConnector.from_settings(settings))
    try:
        assert services.bridge_options().max_running_tools == 3
        assert services.toolbox is not None
        assert services.toolbox.threads is not None
        assert services.toolbox.threads.size == 2
        # Tools and carrier REST requests do not share a connection pool (issue 22: a tool
        # flood starved a hang-up): each call's tools get the tools' client.
        context = services.for_call("twilio", None).tool_context
        assert context is not None
        assert context("CA1").http is services.http
        assert services.control_http is not services.http
    finally:
        await services.aclose()
    threads = services.toolbox.threads
    with pytest.raises(RuntimeError):  # closed with the services
        threads.submit(print)


async def test_the_gateways_tools_client_does_not_follow_a_backends_redirect(
    tmp_path: Path,
) -> None:
    probe = probe_app()
    async with serve_app(probe) as base:
        tool = f"""
[[tools]]
name = "moved"
kind = "http"
description = "A backend that redirects"
url = "{base}/redirect?to=/echo/elsewhere"
"""
        settings = _settings(tmp_path, tool)
        services = GatewayServices.load(settings, LiveConnector.from_settings(settings))
        try:
            assert services.toolbox is not None
            context = services.for_call("twilio", None).tool_context
            assert context is not None
            done = await services.toolbox.run(FunctionCall("c1", "moved", {}), context("CA1"))
        finally:
            await services.aclose()
    assert done.outcome == "error"
    assert done.response["error"] == "the backend answered HTTP 302 Found"
    assert probe.state.hits == {"/redirect": 1}  # never followed to /echo/elsewhere


async def test_silence_times_come_from_the_variables_and_a_profile_overrides_them(
    tmp_path: Path,
) -> None:
    defaults = _settings(tmp_path, None)
    assert (defaults.call.silence_prompt_ms, defaults.call.silence_hangup_ms) == (8_000, 15_000)
    settings = _settings(tmp_path, None, GATEWAY_SILENCE_PROMPT_S="5", GATEWAY_SILENCE_HANGUP_S="0")
    services = GatewayServices.load(settings, LiveConnector.from_settings(settings))
    try:
        options = services.bridge_options()
        assert (options.silence_prompt_ms, options.silence_hangup_ms) == (5_000, None)
        quiet = AgentProfile("quiet", LiveConfig(), silence_prompt_s=0.0)
        assert services.bridge_options(quiet).silence_prompt_ms is None  # off for this agent
        patient = AgentProfile("patient", LiveConfig(), silence_hangup_s=30.0)
        options = services.bridge_options(patient)
        assert (options.silence_prompt_ms, options.silence_hangup_ms) == (5_000, 30_000)
    finally:
        await services.aclose()


async def test_webhooks_are_built_only_when_a_url_is_configured(tmp_path: Path) -> None:
    plain = GatewayServices.load(s := _settings(tmp_path, None), LiveConnector.from_settings(s))
    try:
        assert plain.webhooks is None
    finally:
        await plain.aclose()
    settings = _settings(
        tmp_path,
        None,
        GATEWAY_CALL_WEBHOOK_URL="https://crm.example.com/hook",
        GATEWAY_CALL_WEBHOOK_SECRET="w" * 20,
        GATEWAY_CALL_WEBHOOK_QUEUE_MAX="7",
    )
    hooked = GatewayServices.load(settings, LiveConnector.from_settings(settings))
    try:
        assert hooked.webhooks is not None
        assert hooked.webhooks.policy.max_pending == 7
    finally:
        await hooked.aclose()

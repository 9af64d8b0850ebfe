"""The call policy (the bridge's timeouts, buffers and reconnect policy) is set from the
environment through the schema and reaches every call's BridgeOptions."""

from __future__ import annotations

import pytest

from gateway.audio.hold_sound import soft_chime
from gateway.core.handover import ReconnectPolicy
from gateway.core.options import BridgeOptions
from gateway.settings import SettingsError, load_settings
from gateway.shell.connector import LiveConnector
from gateway.shell.services import GatewayServices

POLICY = {
    "GATEWAY_LIVE_URL": "ws://127.0.0.1:9/live",
    "GATEWAY_LIVE_CONNECT_TIMEOUT_S": "4",
    "GATEWAY_CONNECT_BUFFER_MS": "2500",
    "GATEWAY_RECONNECT_BUFFER_MS": "12000",
    "GATEWAY_RECONNECT_MAX_ATTEMPTS": "3",
    "GATEWAY_RECONNECT_MAX_ATTEMPTS_PER_CALL": "9",
    "GATEWAY_RECONNECT_BACKOFF_MS": "100",
    "GATEWAY_RECONNECT_BACKOFF_MAX_MS": "800",
    "GATEWAY_HANDOVER_QUIET_MS": "150",
    "GATEWAY_ENDING_GRACE_MS": "1000",
    "GATEWAY_WRAP_UP_MAX_S": "6",
    "GATEWAY_HANDOFF_TIMEOUT_S": "3",
    "GATEWAY_MODEL_AUDIO_AHEAD_MAX_S": "30",
    "GATEWAY_STREAM_START_TIMEOUT_S": "2",
    "GATEWAY_LIVE_STALL_TIMEOUT_S": "8",
    "GATEWAY_PLAYBACK_LEAD_MS": "300",
    "GATEWAY_FALLBACK_NUMBER": "+15550001111",
}


def test_unset_the_policy_is_the_bridges_own_defaults() -> None:
    # But the silence watch and the hold audio: a bare bridge has neither (no timer unless
    # asked for); the gateway's calls get them by default (issue 20: 8 s then 15 s; 1.2 s).
    assert load_settings({}, env_file=None).call == BridgeOptions(
        silence_prompt_ms=8_000, silence_hangup_ms=15_000, hold_after_ms=1_200
    )


async def test_every_policy_variable_reaches_each_calls_bridge_options() -> None:
    settings = load_settings(POLICY, env_file=None)
    services = GatewayServices.load(settings, LiveConnector.from_settings(settings))
    try:
        options = services.bridge_options()
    finally:
        await services.aclose()
    assert options == BridgeOptions(
        playback_lead_ms=300,
        model_audio_ahead_max_ms=30_000,
        start_timeout_ms=2_000,
        connect_timeout_ms=4_000,
        connect_buffer_ms=2_500,
        ending_grace_ms=1_000,
        reconnect=ReconnectPolicy(
            max_attempts=3, max_attempts_per_call=9, backoff_ms=100, backoff_max_ms=800
        ),
        reconnect_buffer_ms=12_000,
        handover_quiet_ms=150,
        fallback_number="+15550001111",
        wrap_up_max_ms=6_000,
        handoff_timeout_ms=3_000,
        live_stall_timeout_ms=8_000,
        silence_prompt_ms=8_000,
        silence_hangup_ms=15_000,
        hold_after_ms=1_200,
        hold_pcm=soft_chime(),  # the bundled sound, the default agent's
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"GATEWAY_RECONNECT_MAX_ATTEMPTS_PER_CALL": "3"},
            "GATEWAY_RECONNECT_MAX_ATTEMPTS_PER_CALL must be at least "
            "GATEWAY_RECONNECT_MAX_ATTEMPTS",
        ),
        (
            {"GATEWAY_RECONNECT_BACKOFF_MS": "5000"},
            "GATEWAY_RECONNECT_BACKOFF_MS must be >= 0 and <= GATEWAY_RECONNECT_BACKOFF_MAX_MS",
        ),
        ({"GATEWAY_LIVE_CONNECT_TIMEOUT_S": "0"},
         "GATEWAY_LIVE_CONNECT_TIMEOUT_S must be a positive number of seconds"),
        ({"GATEWAY_ENDING_GRACE_MS": "0"},
         "GATEWAY_ENDING_GRACE_MS must be a positive number of ms"),
        ({"GATEWAY_RECONNECT_MAX_ATTEMPTS": "0"},
         "GATEWAY_RECONNECT_MAX_ATTEMPTS must be at least 1"),
        ({"GATEWAY_CONNECT_BUFFER_MS": "-1"}, "GATEWAY_CONNECT_BUFFER_MS must not be negative"),
        ({"GATEWAY_WRAP_UP_MAX_S": "soon"}, "GATEWAY_WRAP_UP_MAX_S must be a number, not 'soon'"),
    ],
)  # fmt: skip
def test_a_refused_policy_stops_start_up_naming_the_variable(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(environ, env_file=None)
    assert str(caught.value) == message

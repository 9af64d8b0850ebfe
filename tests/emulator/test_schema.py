"""Client-message validation: both casings, unknown names refused as production does."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.emulator.schema import ClientMessageError, normalise_client_message


def test_snake_and_camel_case_normalise_to_camel() -> None:
    message = {
        "setup": {
            "model": "models/m",
            "generation_config": {
                "responseModalities": ["audio"],
                "speechConfig": {"voice_config": {"prebuilt_voice_config": {"voice_name": "K"}}},
            },
            "realtimeInputConfig": {"automatic_activity_detection": {"silence_duration_ms": 500}},
            "tools": [
                {
                    "function_declarations": [
                        {"name": "f", "parameters": {"type": "OBJECT", "some_field": {}}}
                    ]
                }
            ],
        }
    }
    assert normalise_client_message(message) == (
        "setup",
        {
            "model": "models/m",
            "generationConfig": {
                "responseModalities": ["AUDIO"],
                "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "K"}}},
            },
            "realtimeInputConfig": {"automaticActivityDetection": {"silenceDurationMs": 500}},
            "tools": [
                {
                    "functionDeclarations": [
                        {"name": "f", "parameters": {"type": "OBJECT", "some_field": {}}}
                    ]
                }
            ],
        },
    )


def test_other_message_kinds() -> None:
    assert normalise_client_message({"realtime_input": {"audio_stream_end": True}}) == (
        "realtimeInput",
        {"audioStreamEnd": True},
    )
    assert normalise_client_message(
        {"tool_response": {"function_responses": [{"id": "1", "response": {"a_b": 1}}]}}
    ) == ("toolResponse", {"functionResponses": [{"id": "1", "response": {"a_b": 1}}]})
    assert normalise_client_message(
        {"clientContent": {"turns": [{"role": "user", "parts": [{"text": "x"}]}]}}
    ) == ("clientContent", {"turns": [{"role": "user", "parts": [{"text": "x"}]}]})


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (
            {"setup": {"model": "m", "responseModalities": ["AUDIO"]}},
            "Invalid JSON payload received. Unknown name \"responseModalities\" at 'setup': "
            "Cannot find field.",
        ),
        (
            {"setup": {"generationConfig": {"voice": "x"}}},
            "Invalid JSON payload received. Unknown name \"voice\" at 'setup.generation_config': "
            "Cannot find field.",
        ),
        (
            {"setup": {"tools": [{"functionDeclarations": [{"nme": "x"}]}]}},
            'Invalid JSON payload received. Unknown name "nme" at '
            "'setup.tools[0].function_declarations[0]': Cannot find field.",
        ),
        (
            {"realtimeInput": {"audo": {}}},
            "Invalid JSON payload received. Unknown name \"audo\" at 'realtime_input': "
            "Cannot find field.",
        ),
        (
            {"serverContent": {}},
            "Invalid JSON payload received. Unknown name \"serverContent\" at '': "
            "Cannot find field.",
        ),
        (
            {"setup": {"realtimeInputConfig": {"activityHandling": "SOMETIMES"}}},
            "Invalid value at 'setup.realtime_input_config.activity_handling', \"SOMETIMES\"",
        ),
        (
            {"setup": {"generationConfig": {"temperature": True}}},
            "Invalid value at 'setup.generation_config.temperature', \"True\"",
        ),
        (
            {"setup": {"sessionResumption": "h"}},
            "Invalid value at 'setup.session_resumption', \"h\"",
        ),
        ({"setup": "x"}, "Invalid value at 'setup', \"x\""),
        ([1], "Invalid JSON payload received. Expected an object."),
        (
            {"setup": {}, "realtimeInput": {}},
            "Request contains an invalid argument. One message type expected, got realtimeInput, "
            "setup.",
        ),
        ({}, "Request contains an invalid argument. One message type expected, got nothing."),
    ],
)
def test_refusals_are_1007_with_production_reasons(message: Any, reason: str) -> None:
    with pytest.raises(ClientMessageError) as caught:
        normalise_client_message(message)
    assert caught.value.code == 1007
    assert caught.value.reason == reason


def test_int64_fields_accept_strings() -> None:
    message = {"setup": {"contextWindowCompression": {"triggerTokens": "25600"}}}
    assert normalise_client_message(message) == (
        "setup",
        {"contextWindowCompression": {"triggerTokens": "25600"}},
    )


def test_audio_fast_path_agrees_with_the_full_walk() -> None:
    snake = {"realtime_input": {"audio": {"mime_type": "audio/pcm;rate=16000", "data": "AAA="}}}
    assert normalise_client_message(snake) == (
        "realtimeInput",
        {"audio": {"mimeType": "audio/pcm;rate=16000", "data": "AAA="}},
    )
    named = {"realtimeInput": {"audio": {"data": "AAA=", "displayName": "mic"}}}
    assert normalise_client_message(named) == (
        "realtimeInput",
        {"audio": {"data": "AAA=", "displayName": "mic"}},
    )
    with pytest.raises(ClientMessageError, match="Unknown name"):
        normalise_client_message({"realtimeInput": {"audio": {"data": "AAA=", "rate": "x"}}})
    with pytest.raises(ClientMessageError, match="Invalid value"):
        normalise_client_message({"realtimeInput": {"audio": {"data": 5}}})

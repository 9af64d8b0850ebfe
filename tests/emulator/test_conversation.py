"""The emulator's conversation logic, synchronously: exact server messages at given times."""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

import numpy as np

from gateway.emulator.config import EmulatorConfig, ReplyMode
from gateway.emulator.conversation import Close, Conversation, Memory, Output, Send
from gateway.emulator.recorder import SessionRecord
from gateway.emulator.scenario import Scenario, TimedAction, ToolCallRule

SETUP: dict[str, Any] = {"model": "models/m", "sessionResumption": {}}
CONFIG = EmulatorConfig(mode=ReplyMode.TONE, chunk_ms=100, lead_ms=0, reply_delay_ms=300)
CALL_ID = "function-call-sess0001-1-1"


def tone(seconds: float) -> bytes:
    t = np.arange(round(seconds * 16_000)) / 16_000
    return (6000 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()


def quiet(seconds: float) -> bytes:
    return bytes(2 * round(seconds * 16_000))


def audio(pcm: bytes) -> dict[str, Any]:
    return {"audio": {"mimeType": "audio/pcm;rate=16000", "data": base64.b64encode(pcm).decode()}}


def make(
    scenario: Scenario | None = None,
    config: EmulatorConfig = CONFIG,
    setup: dict[str, Any] | None = None,
    memory: Memory | None = None,
) -> Conversation:
    handles = (f"h{i}" for i in itertools.count(1))
    return Conversation(
        config=config,
        scenario=scenario or Scenario(),
        setup=SETUP if setup is None else setup,
        memory=memory or Memory(),
        connection=1,
        record=SessionRecord("sess0001"),
        issue_handle=lambda _memory: next(handles),
        now_s=0.0,
    )


def show(outputs: list[Output]) -> list[str]:
    """Audio chunks as `audio:<samples>`, closes as `close:<code>:<reason>`, others as JSON."""
    shown = []
    for output in outputs:
        if isinstance(output, Close):
            shown.append(f"close:{output.code}:{output.reason}")
            continue
        parts = output.message.get("serverContent", {}).get("modelTurn", {}).get("parts")
        if parts:
            shown.append(f"audio:{len(base64.b64decode(parts[0]['inlineData']['data'])) // 2}")
        else:
            shown.append(json.dumps(output.message, separators=(",", ":")))
    return shown


HANDLE_1 = '{"sessionResumptionUpdate":{"newHandle":"h1","resumable":true}}'
HANDLE_2 = '{"sessionResumptionUpdate":{"newHandle":"h2","resumable":true}}'
NOT_RESUMABLE = '{"sessionResumptionUpdate":{"resumable":false}}'
TURN_1 = '{"serverContent":{"inputTranscription":{"text":"[caller turn 1, 0.5 s]"}}}'
INTERRUPTED = '{"serverContent":{"interrupted":true}}'
TURN_COMPLETE = '{"serverContent":{"turnComplete":true}}'


def test_a_turn_exactly() -> None:
    conversation = make()
    assert show(conversation.start()) == ['{"setupComplete":{}}', HANDLE_1]
    assert show(conversation.receive("realtimeInput", audio(tone(0.5) + quiet(0.6)), 0.0)) == [
        TURN_1
    ]
    assert not conversation.resumable
    assert conversation.next_wakeup_s() == 0.3
    assert show(conversation.tick(0.3)) == [NOT_RESUMABLE, "audio:2400"]
    assert show(conversation.tick(0.4)) == [
        "audio:2400",
        '{"serverContent":{"outputTranscription":{"text":"[model "}}}',
    ]
    assert show(conversation.tick(0.6)) == [
        "audio:2400",
        "audio:2400",
        '{"serverContent":{"outputTranscription":{"text":"turn "}}}',
    ]
    assert show(conversation.tick(0.7)) == [
        "audio:2400",
        '{"serverContent":{"outputTranscription":{"text":"1]"}}}',
        '{"serverContent":{"generationComplete":true}}',
    ]
    assert conversation.next_wakeup_s() == 0.8
    assert show(conversation.tick(0.8)) == [
        '{"serverContent":{"turnComplete":true},"usageMetadata":{"promptTokenCount":12,'
        '"responseTokenCount":12,"totalTokenCount":24,"promptTokensDetails":[{"modality":"AUDIO",'
        '"tokenCount":12}],"responseTokensDetails":[{"modality":"AUDIO","tokenCount":12}]}}',
        HANDLE_2,
    ]
    assert conversation.resumable
    assert conversation.memory == Memory(
        caller_turns=1, model_turns=1, heard=("caller turn 1: 0.50 s of audio",)
    )
    assert conversation.record.utterances == [(0, 8000)]
    assert conversation.record.audio_samples == 17_600
    assert conversation.record.model_audio_samples == 12_000


def test_barge_in_interrupts_then_completes_the_turn() -> None:
    conversation = make()
    conversation.start()
    conversation.receive("realtimeInput", audio(tone(0.5) + quiet(0.6)), 0.0)
    conversation.tick(0.4)
    assert show(conversation.receive("realtimeInput", audio(tone(0.1)), 0.45)) == [
        INTERRUPTED,
        TURN_COMPLETE,
        HANDLE_2,
    ]
    assert conversation.tick(0.6) == []
    assert conversation.memory.model_turns == 1


def test_speech_before_the_answer_is_audible_continues_the_same_turn() -> None:
    conversation = make()
    conversation.start()
    conversation.receive("realtimeInput", audio(tone(0.5) + quiet(0.6)), 0.0)
    assert conversation.receive("realtimeInput", audio(tone(0.3) + quiet(0.6)), 0.1) == [
        Send({"serverContent": {"inputTranscription": {"text": "[caller turn 1, 0.9 s]"}}})
    ]
    assert conversation.memory.caller_turns == 1


def test_no_interruption_queues_the_next_answer() -> None:
    setup = {**SETUP, "realtimeInputConfig": {"activityHandling": "NO_INTERRUPTION"}}
    conversation = make(setup=setup)
    conversation.start()
    conversation.receive("realtimeInput", audio(tone(0.5) + quiet(0.6)), 0.0)
    conversation.tick(0.4)
    shown = show(conversation.receive("realtimeInput", audio(tone(0.2) + quiet(0.6)), 0.45))
    # 0.2 s of speech plus the 0.1 s kept before the detected start.
    assert shown == ['{"serverContent":{"inputTranscription":{"text":"[caller turn 2, 0.3 s]"}}}']
    assert conversation.next_wakeup_s() == 0.5
    shown = show(conversation.tick(0.8))
    assert shown[-5].startswith('{"serverContent":{"turnComplete":true},"usageMetadata"')
    assert shown[-4:] == [
        HANDLE_2,
        NOT_RESUMABLE,
        "audio:2400",
        '{"serverContent":{"outputTranscription":{"text":"[model "}}}',
    ]


def test_tool_call_on_a_turn_waits_for_the_matching_response() -> None:
    rule = ToolCallRule(
        name="lookup", args={"order": "42"}, on_turn=1, say_ms=300, say_text="Shipped"
    )
    conversation = make(Scenario(tool_calls=(rule,)))
    conversation.start()
    assert show(conversation.receive("realtimeInput", audio(tone(0.5) + quiet(0.6)), 0.0)) == [
        TURN_1
    ]
    assert show(conversation.tick(0.3)) == [
        NOT_RESUMABLE,
        '{"toolCall":{"functionCalls":[{"id":"' + CALL_ID + '","name":"lookup",'
        '"args":{"order":"42"}}]}}',
    ]
    assert not conversation.resumable
    assert conversation.tick(5.0) == []  # nothing happens until the response
    response = {"functionResponses": [{"id": CALL_ID, "name": "lookup", "response": {"ok": 1}}]}
    assert conversation.receive("toolResponse", response, 5.0) == []
    assert show(conversation.tick(5.3)) == [NOT_RESUMABLE, "audio:2400"]
    assert show(conversation.tick(5.5)) == [
        "audio:2400",
        "audio:2400",
        '{"serverContent":{"outputTranscription":{"text":"Shipped"}}}',
        '{"serverContent":{"generationComplete":true}}',
    ]
    assert show(conversation.tick(5.6))[1] == HANDLE_2
    assert conversation.memory.heard[-1] == f"tool lookup ({CALL_ID}): {{'ok': 1}}"
    assert conversation.record.tool_responses == response["functionResponses"]


def test_dtmf_text_triggers_a_call_and_barge_in_cancels_it() -> None:
    rule = ToolCallRule(name="menu", on_text="pressed 5")
    conversation = make(Scenario(tool_calls=(rule,)))
    conversation.start()
    assert conversation.receive("realtimeInput", {"text": "Caller pressed 5"}, 0.0) == []
    assert show(conversation.tick(0.3))[1].startswith('{"toolCall":{"functionCalls":[{"id":')
    assert show(conversation.receive("realtimeInput", audio(tone(0.1)), 0.5)) == [
        '{"toolCallCancellation":{"ids":["' + CALL_ID + '"]}}'
    ]
    late = {"functionResponses": [{"id": CALL_ID, "name": "menu", "response": {}}]}
    assert conversation.receive("toolResponse", late, 0.6) == []  # cancelled: ignored
    unknown = {"functionResponses": [{"id": "nope", "name": "menu", "response": {}}]}
    assert show(conversation.receive("toolResponse", unknown, 0.7)) == [
        "close:1007:Request contains an invalid argument. Unknown function call id."
    ]
    assert conversation.closed
    assert conversation.record.texts == ["Caller pressed 5"]


def test_tool_response_without_id_is_refused() -> None:
    conversation = make()
    conversation.start()
    assert show(
        conversation.receive("toolResponse", {"functionResponses": [{"name": "x"}]}, 0)
    ) == ["close:1007:Request contains an invalid argument. A function response needs its id."]


def test_audio_while_a_call_is_pending_can_abort_the_session() -> None:
    rule = ToolCallRule(name="lookup", on_text="x")
    conversation = make(Scenario(tool_calls=(rule,), abort_audio_during_tool_call=True))
    conversation.start()
    conversation.receive("realtimeInput", {"text": "x"}, 0.0)
    conversation.tick(0.3)
    assert show(conversation.receive("realtimeInput", audio(quiet(0.02)), 0.4)) == [
        "close:1008:The operation was aborted."
    ]


def test_go_away_then_deadline() -> None:
    config = EmulatorConfig(connection_lifetime_s=10.0, go_away_lead_s=4.0)
    conversation = make(config=config)
    conversation.start()
    assert conversation.next_wakeup_s() == 6.0
    assert show(conversation.tick(6.0)) == ['{"goAway":{"timeLeft":"4s"}}']
    assert conversation.next_wakeup_s() == 10.0
    assert show(conversation.tick(10.0)) == [
        "close:1011:Deadline expired before operation could complete."
    ]
    assert conversation.tick(11.0) == []


def test_scripted_go_away_and_close() -> None:
    actions = (
        TimedAction(at_s=2.0, action="go_away", time_left_s=1.5),
        TimedAction(at_s=2.5, action="close", connection=2),
        TimedAction(at_s=3.0, action="close", code=1006 + 5, reason="Internal error occurred."),
    )
    conversation = make(Scenario(actions=actions))
    conversation.start()
    assert show(conversation.tick(2.0)) == ['{"goAway":{"timeLeft":"1.5s"}}']
    assert conversation.tick(2.9) == []
    assert show(conversation.tick(3.0)) == ["close:1011:Internal error occurred."]


def test_a_silence_action_stalls_the_connection_but_a_close_still_goes_out() -> None:
    actions = (
        TimedAction(at_s=0.0, action="silence", connection=0),
        TimedAction(at_s=9.0, action="close", connection=0),
    )
    conversation = make(Scenario(actions=actions))
    assert show(conversation.start()) == ['{"setupComplete":{}}', HANDLE_1]  # set up as usual
    assert conversation.tick(0.0) == []
    # A whole caller turn: nothing comes back, neither transcript nor answer.
    assert conversation.receive("realtimeInput", audio(tone(0.5) + quiet(0.6)), 0.1) == []
    assert [conversation.tick(t / 10) for t in range(1, 80)] == [[]] * 79
    assert show(conversation.tick(9.0)) == ["close:1011:Internal error encountered."]


def test_manual_activity_signals() -> None:
    setup = {**SETUP, "realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}}}
    conversation = make(setup=setup)
    conversation.start()
    assert conversation.receive("realtimeInput", {"activityStart": {}}, 0.0) == []
    conversation.receive("realtimeInput", audio(quiet(0.4)), 0.0)
    assert show(conversation.receive("realtimeInput", {"activityEnd": {}}, 0.4)) == [
        '{"serverContent":{"inputTranscription":{"text":"[caller turn 1, 0.4 s]"}}}'
    ]


def test_activity_signals_need_manual_mode() -> None:
    conversation = make()
    conversation.start()
    assert show(conversation.receive("realtimeInput", {"activityStart": {}}, 0.0)) == [
        "close:1007:Explicit activity control is not supported when automatic activity "
        "detection is enabled."
    ]


def test_audio_stream_end_and_silent_uplink_end_the_utterance() -> None:
    conversation = make()
    conversation.start()
    assert conversation.receive("realtimeInput", audio(tone(0.5)), 0.0) == []
    assert show(conversation.receive("realtimeInput", {"audioStreamEnd": True}, 0.1)) == [TURN_1]
    other = make()
    other.start()
    other.receive("realtimeInput", audio(tone(0.5)), 0.0)
    assert other.next_wakeup_s() == 0.5  # no audio for the silence duration
    assert show(other.tick(0.5)) == [TURN_1]


def test_bad_audio_is_refused_like_production() -> None:
    conversation = make()
    conversation.start()
    bad_mime = {"audio": {"mimeType": "audio/ogg", "data": ""}}
    assert show(conversation.receive("realtimeInput", bad_mime, 0.0)) == [
        "close:1007:Request contains an invalid argument. Unsupported MIME type: audio/ogg"
    ]
    other = make()
    other.start()
    bad_data = {"audio": {"mimeType": "audio/pcm;rate=16000", "data": "!!"}}
    assert show(other.receive("realtimeInput", bad_data, 0.0)) == [
        "close:1007:Invalid value at 'realtime_input.audio.data' (TYPE_BYTES)"
    ]


def test_client_content_and_text_get_spoken_answers() -> None:
    conversation = make(config=EmulatorConfig(mode=ReplyMode.TONE, text_reply_ms=500))
    conversation.start()
    content = {"turns": [{"role": "user", "parts": [{"text": "Hi"}]}], "turnComplete": True}
    assert conversation.receive("clientContent", content, 0.0) == []
    assert conversation.memory.heard == ("user: Hi",)
    shown = show(conversation.tick(10.0))
    assert shown[0] == NOT_RESUMABLE
    assert sum(int(s[6:]) for s in shown if s.startswith("audio:")) == 12_000


def test_resumed_memory_continues_the_count_and_no_updates_without_resumption() -> None:
    conversation = make(setup={"model": "models/m"}, memory=Memory(caller_turns=3, model_turns=3))
    assert show(conversation.start()) == ['{"setupComplete":{}}']
    assert show(conversation.receive("realtimeInput", audio(tone(0.5) + quiet(0.6)), 0.0)) == [
        '{"serverContent":{"inputTranscription":{"text":"[caller turn 4, 0.5 s]"}}}'
    ]
    assert show(conversation.tick(0.3)) == ["audio:2400"]


def test_echo_mode_speaks_the_callers_words_at_24k() -> None:
    conversation = make(config=EmulatorConfig(mode=ReplyMode.ECHO, chunk_ms=40, lead_ms=0))
    conversation.start()
    conversation.receive("realtimeInput", audio(tone(0.5) + quiet(0.6)), 0.0)
    outputs = conversation.tick(10.0)
    chunks = [
        np.frombuffer(
            base64.b64decode(
                o.message["serverContent"]["modelTurn"]["parts"][0]["inlineData"]["data"]
            ),
            dtype="<i2",
        )
        for o in outputs
        if isinstance(o, Send) and "modelTurn" in o.message.get("serverContent", {})
    ]
    echoed = np.concatenate(chunks)
    assert len(echoed) >= 12_000
    assert 0.7 * 6000 < np.abs(echoed[1000:11_000]).max() <= 6000 * 1.05


def test_speech_before_a_text_answer_is_audible_drops_it_without_losing_the_turn_count() -> None:
    conversation = make()
    conversation.start()
    assert conversation.receive("realtimeInput", {"text": "hello"}, 0.0) == []
    assert conversation.receive("realtimeInput", audio(tone(0.1)), 0.1) == []
    assert conversation.tick(0.5) == []  # the text answer was dropped, the caller is speaking
    assert conversation.memory.caller_turns == 0
    shown = show(conversation.receive("realtimeInput", audio(quiet(0.6)), 0.7))
    assert shown == ['{"serverContent":{"inputTranscription":{"text":"[caller turn 1, 0.1 s]"}}}']


def test_speech_before_a_text_triggered_call_is_issued_keeps_the_count() -> None:
    conversation = make(Scenario(tool_calls=(ToolCallRule(name="menu", on_text="5"),)))
    conversation.start()
    conversation.receive("realtimeInput", {"text": "pressed 5"}, 0.0)
    assert conversation.receive("realtimeInput", audio(tone(0.1)), 0.1) == []
    assert conversation.memory.caller_turns == 0
    # No audio for the silence duration ends the utterance; the call is never issued.
    assert show(conversation.tick(1.0)) == [
        '{"serverContent":{"inputTranscription":{"text":"[caller turn 1, 0.1 s]"}}}'
    ]

"""The web softphone's dialect, access rule and wideband format (pure: exact events and bytes)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gateway.audio.paths import CarrierFormat, DownlinkPath, Encoding
from gateway.carriers.browser.plugin import BROWSER, is_loopback
from gateway.carriers.browser.settings import BrowserSettings, read_browser_settings
from gateway.carriers.browser.translator import BROWSER_FORMAT, BrowserTranslator
from gateway.carriers.plugin import Webhook
from gateway.core.events import (
    CallerAudio,
    CallStarted,
    CallStopped,
    ClearPlayback,
    DtmfPressed,
    MessageIgnored,
    PlaceMark,
    PlayAudio,
    PlaybackMarked,
)
from gateway.core.recording import CallRecorder
from gateway.env_reader import EnvReader

KEY = "phone-key-0123456789"


def _started() -> BrowserTranslator:
    translator = BrowserTranslator("nonce1")
    translator.parse(json.dumps({"type": "start", "call": "BR1", "token": "tok"}))
    return translator


def test_start_gives_the_call_its_wideband_format_and_token() -> None:
    translator = BrowserTranslator("nonce1")
    events = translator.parse('{"type": "start", "call": "BR1", "token": "tok"}')
    assert events == [
        CallStarted(
            "BR1",
            "nonce1",
            media_format=CarrierFormat(Encoding.L16, 16_000, 20, 24_000),
            custom_parameters={"stream_token": "tok"},
        )
    ]
    assert BROWSER_FORMAT.playback == CarrierFormat(Encoding.L16, 24_000, 20)
    assert translator.parse('{"type": "start", "call": "BR2", "token": "t"}') == [
        MessageIgnored("duplicate start")
    ]


def test_binary_frames_are_caller_audio_as_sent() -> None:
    translator = _started()
    pcm = np.arange(320, dtype="<i2").tobytes()
    assert translator.parse(pcm) == [CallerAudio(pcm)]
    assert translator.parse(b"") == [MessageIgnored("empty audio")]


def test_control_messages() -> None:
    translator = _started()
    assert translator.parse('{"type": "dtmf", "digit": "5"}') == [DtmfPressed("5")]
    assert translator.parse('{"type": "played", "name": "m7"}') == [PlaybackMarked("m7")]
    assert translator.parse('{"type": "hangup"}') == [CallStopped()]


def test_bad_input_is_ignored_with_a_reason() -> None:
    fresh = BrowserTranslator("n")
    assert fresh.parse(b"\x00\x01") == [MessageIgnored("before start", "audio")]
    assert fresh.parse('{"type": "dtmf", "digit": "1"}') == [MessageIgnored("before start", "dtmf")]
    assert fresh.parse('{"type": "start", "call": ""}')[0].reason == "malformed"  # type: ignore[union-attr]
    translator = _started()
    assert translator.parse('{"type": "dtmf", "digit": "55"}')[0].reason == "malformed"  # type: ignore[union-attr]
    assert translator.parse('{"type": "played"}')[0].reason == "malformed"  # type: ignore[union-attr]
    assert translator.parse('{"type": "dance"}') == [MessageIgnored("unknown event", "dance")]
    assert translator.parse("not json")[0].reason == "malformed"  # type: ignore[union-attr]
    assert translator.messages_ignored == 4


def test_commands_encode_to_exact_messages() -> None:
    translator = _started()
    frame = bytes(range(256)) * 3 + bytes(192)  # 20 ms at 24 kHz: 960 bytes
    assert translator.encode(PlayAudio(frame)) == frame
    assert translator.encode(PlaceMark("m1")) == '{"type": "mark", "name": "m1"}'
    assert translator.encode(ClearPlayback()) == '{"type": "clear"}'
    assert translator.encode_view("barge_in", {}) == '{"type":"view","event":"barge_in"}'
    assert (
        translator.encode_view("transcript", {"role": "agent", "text": "hi"})
        == '{"type":"view","event":"transcript","role":"agent","text":"hi"}'
    )
    with pytest.raises(ValueError, match="not started"):
        BrowserTranslator("n").encode(ClearPlayback())


def test_the_downlink_keeps_live_audio_at_24_khz_untouched() -> None:
    path = DownlinkPath(BROWSER_FORMAT.playback)
    pcm = (np.sin(np.arange(960) / 7) * 8000).astype("<i2")
    frames = path.process(pcm.tobytes())
    assert [len(frame) for frame in frames] == [960, 960]  # 20 ms frames at 24 kHz
    assert np.frombuffer(b"".join(frames), "<i2").tolist() == pcm.tolist()  # bit-exact


def test_the_recording_brings_the_agent_to_the_callers_rate() -> None:
    recorder = CallRecorder(BROWSER_FORMAT)
    assert recorder.rate_hz == 16_000
    recorder.agent(bytes(960 * 5))  # 100 ms at 24 kHz
    recorder.caller(bytes(640 * 5))  # 100 ms at 16 kHz
    frames = recorder.finish()
    assert len(frames) == 1600 * 4  # stereo PCM16 at 16 kHz
    assert recorder.caller_ms == 100.0
    assert recorder.agent_heard_ms == pytest.approx(100.0, abs=2.0)


def _webhook(base: str, authorization: str | None = None) -> Webhook:
    headers = {} if authorization is None else {"authorization": authorization}
    body = b'{"call": "BR1", "from": "+15550100", "to": "+15550001"}'
    return Webhook("POST", base + "/phone/call", base, (), headers, body, 0.0)


def test_the_key_is_asked_for_behind_a_public_url_only() -> None:
    local = BrowserSettings(dev_phone=True)
    assert BROWSER.verify(local, _webhook("http://127.0.0.1:8080")) is None
    assert BROWSER.verify(local, _webhook("http://localhost:8080")) is None
    assert BROWSER.verify(local, _webhook("https://gw.example.com")) == (
        "GATEWAY_API_KEY not set (needed behind a public URL)"
    )
    keyed = BrowserSettings(api_key=KEY, dev_phone=True)
    public = _webhook("https://gw.example.com", f"Bearer {KEY}")
    assert BROWSER.verify(keyed, public) is None
    assert BROWSER.verify(keyed, _webhook("https://gw.example.com", "Bearer x")) == "bad signature"
    assert BROWSER.verify(keyed, _webhook("https://gw.example.com")) == "no API key"
    behind = BrowserSettings(api_key=KEY, dev_phone=True, public_url=True)
    assert BROWSER.verify(behind, _webhook("http://127.0.0.1:8080")) == "no API key"
    assert is_loopback("http://[::1]:8080")
    assert not is_loopback("http://10.0.0.2")


def test_the_call_and_its_answer() -> None:
    settings = BrowserSettings(dev_phone=True)
    webhook = _webhook("https://gw.example.com")
    call = BROWSER.parse_call(settings, webhook)
    assert call is not None
    assert (call.call_id, call.from_number, call.to_number) == ("BR1", "+15550100", "+15550001")
    document = BROWSER.answer(settings, webhook, call, "tok")
    assert json.loads(document.body) == {
        "call": "BR1",
        "stream": "wss://gw.example.com/phone/media",
        "token": "tok",
    }


def test_the_softphone_is_on_with_the_emulator_or_when_asked() -> None:
    assert read_browser_settings(EnvReader({})).enabled(embedded_emulator=True)
    assert not read_browser_settings(EnvReader({})).enabled(embedded_emulator=False)
    on = read_browser_settings(EnvReader({"GATEWAY_DEV_PHONE": "true"}))
    assert on.enabled(embedded_emulator=False)
    off = read_browser_settings(EnvReader({"GATEWAY_DEV_PHONE": "false"}))
    assert not off.enabled(embedded_emulator=True)
    keyed = read_browser_settings(EnvReader({"GATEWAY_API_KEY": KEY}))
    assert keyed.api_key == KEY
    assert KEY not in repr(keyed)

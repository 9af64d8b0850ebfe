"""How calls treat the caller and report on themselves: silence, hold audio, keypad entry,
post-call webhooks (issue 20).

The agent's options here are read twice: from the environment for every call (the call policy
every call starts from, gateway.call_settings) and from an agent profile, where a key that is
set overrides the variable for that agent's calls (gateway.agents.loader). See docs/agents.md.
"""

from __future__ import annotations

from typing import Any, Final

from gateway.options.core import AGENT
from gateway.options.option import Option

__all__ = ["CONDUCT_OPTIONS", "WEBHOOKS"]

WEBHOOKS: Final = "Post-call webhooks"


def _finite(value: Any) -> str | None:
    return None if float(value) < float("inf") else "must be a finite number"


SILENCE_PROMPT_S = Option(
    "GATEWAY_SILENCE_PROMPT_S", "number", "a caller silent this long after the agent finished "
    "speaking is checked on (the model is told and asks whether they are still there); `0` "
    "turns the silence watch off ([agents.md](agents.md#a-silent-caller))", AGENT, default=8.0,
    minimum=0, check=_finite, profile="silence_prompt_s",
    profile_doc="seconds of caller silence before the agent checks in; `0`: off (the variable "
    "`GATEWAY_SILENCE_PROMPT_S` when unset)", profile_default_doc="the variable's (8)",
)  # fmt: skip
SILENCE_HANGUP_S = Option(
    "GATEWAY_SILENCE_HANGUP_S", "number", "silent this long more after the check-in: the agent "
    "says goodbye and the call is hung up once it was heard; `0`: never hung up for silence",
    AGENT, default=15.0, minimum=0, check=_finite, profile="silence_hangup_s",
    profile_doc="seconds more after the check-in before the goodbye and hang-up; `0`: never",
    profile_default_doc="the variable's (15)",
)  # fmt: skip

HOLD_AFTER_MS = Option(
    "GATEWAY_HOLD_AFTER_MS", "number", "a tool the model waits for that runs longer than this "
    "gets the hold sound until the model speaks again; `0`: no hold audio "
    "([agents.md](agents.md#hold-audio-while-tools-run))", AGENT, default=1200.0, minimum=0,
    check=_finite, profile="hold_after_ms",
    profile_doc="ms a tool the model waits for runs before the caller hears the hold sound; "
    "`0`: none", profile_default_doc="the variable's (1200)",
)  # fmt: skip
HOLD_AUDIO_FILE = Option(
    "GATEWAY_HOLD_AUDIO_FILE", "text", "the hold sound: a WAV file (PCM, any rate, mono or "
    "stereo) or raw 8 kHz μ-law (`.ulaw`), at most 60 s, played in a loop; resampled once at "
    "start-up", AGENT, profile="hold_audio_file", default_doc="a soft chime (bundled)",
    example="/etc/gateway/hold.wav",
    profile_doc="the profile's own hold sound (a path relative to the profiles file)",
    profile_default_doc="the variable's, else the bundled chime",
)  # fmt: skip


def _http_url(value: Any) -> str | None:
    if not str(value).startswith(("https://", "http://")):
        return "must be an http(s):// URL"
    return None


def _secret_length(value: Any) -> str | None:
    return "must be at least 16 characters" if len(str(value)) < 16 else None


CALL_WEBHOOK_URL = Option(
    "GATEWAY_CALL_WEBHOOK_URL", "text", "where each ended call's JSON document is POSTed "
    "([operations.md](operations.md#post-call-webhooks)); needs `GATEWAY_CALL_WEBHOOK_SECRET`",
    WEBHOOKS, check=_http_url, default_doc="none (no webhooks)", profile="call_webhook_url",
    example="https://crm.example.com/hooks/calls",
    profile_doc="this agent's post-call webhook (the variable `GATEWAY_CALL_WEBHOOK_URL` when "
    "unset); needs `GATEWAY_CALL_WEBHOOK_SECRET`", profile_default_doc="the variable's",
)  # fmt: skip
CALL_WEBHOOK_SECRET = Option(
    "GATEWAY_CALL_WEBHOOK_SECRET", "secret", "signs every document (`Gateway-Signature: "
    "t=…,v1=…`, an HMAC-SHA256; at least 16 characters)", WEBHOOKS, check=_secret_length,
    default_doc="none",
)  # fmt: skip
CALL_WEBHOOK_TIMEOUT_S = Option(
    "GATEWAY_CALL_WEBHOOK_TIMEOUT_S", "number", "one delivery attempt at most (connect, send, "
    "answer)", WEBHOOKS, default=5.0, minimum=0, check=_finite,
)  # fmt: skip
CALL_WEBHOOK_MAX_ATTEMPTS = Option(
    "GATEWAY_CALL_WEBHOOK_MAX_ATTEMPTS", "int", "attempts per document (retries back off "
    "exponentially from 1 s, doubled up to 60 s, jittered)", WEBHOOKS, default=6, minimum=1,
    maximum=20,
)  # fmt: skip
CALL_WEBHOOK_MAX_AGE_S = Option(
    "GATEWAY_CALL_WEBHOOK_MAX_AGE_S", "number", "no attempt starts later than this after the "
    "call ended", WEBHOOKS, default=900.0, minimum=0, check=_finite,
)  # fmt: skip
CALL_WEBHOOK_QUEUE_MAX = Option(
    "GATEWAY_CALL_WEBHOOK_QUEUE_MAX", "int", "documents waiting for delivery at most; beyond it "
    "a call's document is dropped and counted (`overflow`)", WEBHOOKS, default=1000, minimum=1,
    maximum=1_000_000,
)  # fmt: skip

CONDUCT_OPTIONS: Final[tuple[Option, ...]] = (
    SILENCE_PROMPT_S, SILENCE_HANGUP_S, HOLD_AFTER_MS, HOLD_AUDIO_FILE, CALL_WEBHOOK_URL,
    CALL_WEBHOOK_SECRET, CALL_WEBHOOK_TIMEOUT_S, CALL_WEBHOOK_MAX_ATTEMPTS,
    CALL_WEBHOOK_MAX_AGE_S, CALL_WEBHOOK_QUEUE_MAX,
)  # fmt: skip

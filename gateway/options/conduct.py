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

CONDUCT_OPTIONS: Final[tuple[Option, ...]] = (
    SILENCE_PROMPT_S, SILENCE_HANGUP_S, HOLD_AFTER_MS, HOLD_AUDIO_FILE,
)  # fmt: skip

"""Agent profiles and the directory that picks one for a dialed number.

An `AgentProfile` is everything that differs between the agents one gateway runs: the Live
session's configuration (model, voice, language, instructions, tools, Live options), whether the
agent speaks first, and what is recorded. `AgentDirectory.select(dialed)` returns the profile
serving a dialed number (the webhook's `To`), else the default profile, else None (the call is
refused politely). Profiles come from the profiles file (gateway.agents.loader) or, without one,
from the environment as the single profile `default`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from gateway.live.setup import LiveConfig

__all__ = [
    "DEFAULT_GREETING_PROMPT",
    "DEFAULT_PROFILE",
    "AgentDirectory",
    "AgentProfile",
    "normalise_number",
]

DEFAULT_PROFILE: Final = "default"
"""The name of the profile built from the environment when there is no profiles file."""
DEFAULT_GREETING_PROMPT: Final = (
    "The caller has just been connected. Greet them briefly and ask how you can help."
)
PROFILE_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
"""Profile names: short, lower case, safe in a metric label, a log line and a stream token."""
_PHONE: Final = re.compile(r"\+?[0-9 ().-]+")


def normalise_number(number: str) -> str:
    """The form two spellings of one destination share.

    Phone numbers keep their digits only (`+1 (555) 000-1111`, `+15550001111` and Vonage's
    `15550001111` are one number); SIP URIs lose their scheme and parameters and are lower-cased
    (`sip:Support@Example.com;transport=tls` -> `support@example.com`)."""
    text = number.strip()
    if text.lower().startswith("tel:"):
        text = text[len("tel:") :].split(";", 1)[0]
    if _PHONE.fullmatch(text) and any(ch.isdigit() for ch in text):
        return "".join(ch for ch in text if ch.isdigit())
    lowered = text.lower()
    for scheme in ("sips:", "sip:"):
        if lowered.startswith(scheme):
            lowered = lowered[len(scheme) :]
            break
    return lowered.split(";", 1)[0]


@dataclass(frozen=True)
class AgentProfile:
    """One agent: its Live configuration and how its calls go."""

    name: str
    live: LiveConfig
    """The setup every session of the call uses (tools declared, options checked)."""
    tool_names: tuple[str, ...] = ()
    """Tools from the tools file this agent may call; a call to any other is refused."""
    numbers: tuple[str, ...] = ()
    """Dialed numbers (or SIP URIs) this agent answers, as written in the profiles file."""
    speaks_first: bool = False
    """True: the agent greets the caller as soon as its session is ready (`greeting = "agent"`);
    False: it waits for the caller to speak."""
    greeting_prompt: str = DEFAULT_GREETING_PROMPT
    """What the model is told to make it speak first."""
    record_transcript: bool = False
    record_audio: bool = False
    silence_prompt_s: float | None = None
    """Seconds of caller silence before the agent checks in (0: off); None: the variable's."""
    silence_hangup_s: float | None = None
    """Seconds more before the goodbye and hang-up (0: never); None: the variable's."""
    hold_after_ms: float | None = None
    """ms a blocking tool runs before the hold sound (0: none); None: the variable's."""
    hold_audio_file: str | None = None
    """The profile's own hold sound (an absolute path); None: the variable's or the bundled."""
    call_webhook_url: str | None = None
    """Where this agent's ended calls are posted; None: `GATEWAY_CALL_WEBHOOK_URL`."""
    voicemail_message: str | None = None
    """Outbound calls that reach a machine (`leave_voicemail`): what the agent leaves."""
    hello_timeout_ms: float = 4_000.0
    """Outbound calls: how long the agent waits for the callee's hello before greeting."""

    @property
    def recorded(self) -> tuple[str, ...]:
        """What this agent's calls leave on disk: `audio`, `transcript`, both or nothing."""
        kinds = (("audio", self.record_audio), ("transcript", self.record_transcript))
        return tuple(kind for kind, wanted in kinds if wanted)

    @property
    def records(self) -> bool:
        return bool(self.recorded)


@dataclass(frozen=True)
class AgentDirectory:
    """The profiles by name, the numbers they answer, and the default."""

    profiles: Mapping[str, AgentProfile]
    default: str | None = DEFAULT_PROFILE
    source: str = "environment"
    """Where the profiles came from: `environment` or the profiles file's path."""
    _by_number: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.default is not None and self.default not in self.profiles:
            raise ValueError(f"the default profile {self.default!r} is not defined")
        by_number: dict[str, str] = {}
        for profile in self.profiles.values():
            for number in profile.numbers:
                key = normalise_number(number)
                other = by_number.setdefault(key, profile.name)
                if other != profile.name:
                    raise ValueError(
                        f"number {number!r} is answered by both profile {other!r} "
                        f"and profile {profile.name!r}"
                    )
        object.__setattr__(self, "_by_number", by_number)

    @classmethod
    def single(cls, profile: AgentProfile) -> AgentDirectory:
        """One profile answering every number (the environment-configured agent)."""
        return cls({profile.name: profile}, default=profile.name)

    def get(self, name: str) -> AgentProfile | None:
        return self.profiles.get(name)

    def select(self, dialed: str | None) -> AgentProfile | None:
        """The profile answering `dialed`, else the default, else None (no agent for it)."""
        if dialed:
            name = self._by_number.get(normalise_number(dialed))
            if name is not None:
                return self.profiles[name]
        return self.profiles.get(self.default) if self.default is not None else None

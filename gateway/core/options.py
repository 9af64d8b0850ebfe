"""The call bridge's tunables (one frozen value shared by every call)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.core.answering import OutboundPolicy
from gateway.core.digits import DigitCollection
from gateway.core.handover import ReconnectPolicy

__all__ = ["APOLOGY_GOODBYE", "APOLOGY_TRANSFER", "BridgeOptions"]

APOLOGY_TRANSFER = (
    "I'm sorry, our assistant is having trouble right now. "
    "Please hold while I connect you with someone who can help."
)
APOLOGY_GOODBYE = (
    "I'm sorry, our assistant is having trouble right now. Please call again later. Goodbye."
)


@dataclass(frozen=True, slots=True)
class BridgeOptions:
    playback_lead_ms: float = 400.0
    """Model audio that may sit queued at the carrier; the rest is held locally, where a
    barge-in drops it for free."""
    media_message_ms: float = 20.0
    """Model audio one outbound media message may carry at most (whole carrier frames; at least
    one frame): the carrier plug-in's `media_message_ms`. 20: a message per 20 ms frame."""
    mark_interval_ms: float = 200.0
    """Marks are placed at most this often while audio flows (0: one after every model chunk);
    the end of a generation always gets its mark (see `gateway.core.playout`)."""
    model_audio_ahead_max_ms: float = 60_000.0
    """Model audio held ahead of the carrier's playout (locally queued plus the carrier's lead).
    A model sending faster than real time past it loses the rest of that turn's audio, counted
    (`model_audio_dropped_ms`): policy `drop-rest-of-turn` (see `gateway.core.speech`)."""
    start_timeout_ms: float = 10_000.0
    """How long a new stream may take to send its `start`."""
    connect_timeout_ms: float = 10_000.0
    """How long the Live session may take to open once the call started."""
    connect_buffer_ms: float = 5_000.0
    """Caller audio held while the model connects; beyond it the oldest audio is dropped."""
    ending_grace_ms: float = 2_000.0
    """After the model closed: how long past the estimated end of playout to wait for the
    carrier's last mark."""
    dtmf_text: str = "The caller pressed {digit} on the keypad."
    """What the model is told when a key is pressed; `{digit}` is replaced by the key."""
    reconnect: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    """How a call replaces its Live session (goAway, abrupt closes)."""
    reconnect_buffer_ms: float = 30_000.0
    """Caller audio held while the session is replaced (sized for a slow reconnect: five
    backed-off attempts); beyond it the oldest audio is dropped, counted."""
    handover_quiet_ms: float = 300.0
    """A `goAway` handover waits for the caller to have been quiet this long."""
    caller_speech_dbfs: float = -45.0
    """Caller audio at or above this level counts as speech for the handover."""
    tool_names: frozenset[str] = frozenset()
    """The configured tools; a call to any other name is answered with an error at once."""
    max_running_tools: int = 8
    """Tool calls one phone call may have running at once; the model's calls beyond it are
    answered with an error at once (the tools file's `[limits] max_running_per_call`)."""
    fallback_number: str | None = None
    """Where callers go when the agent fails for good; None: a polite goodbye."""
    fallback_transfer_text: str = APOLOGY_TRANSFER
    fallback_goodbye_text: str = APOLOGY_GOODBYE
    wrap_up_max_ms: float = 15_000.0
    """A transfer or hang-up waits at most this long for the agent's last words to be heard."""
    greeting_text: str | None = None
    """Told to the model (`realtimeInput.text`) as the call's first session opens, so that the
    agent speaks first; None: the agent waits for the caller."""
    outbound: OutboundPolicy | None = None
    """A call the gateway placed: who speaks first, what a machine gets (`core.answering`)."""
    handoff_timeout_ms: float = 10_000.0
    """After the carrier's REST API was asked to move or end the call: how long to wait for the
    carrier to end the stream before the gateway ends it."""
    live_stall_timeout_ms: float = 20_000.0
    """A Live session that sends nothing for this long after the caller spoke is stalled: it is
    replaced like a session that closed abruptly (resumed), then the fallback. The clock runs
    only while an answer is expected (from caller speech to the next server message)."""
    digit_collections: tuple[DigitCollection, ...] = ()
    """The `collect_digits` tools among `tool_names`: the bridge gathers their digits itself
    (`gateway.core.digits`)."""
    non_blocking_tools: frozenset[str] = frozenset()
    """Tools declared `NON_BLOCKING`: the model does not wait for them (no hold audio)."""
    hold_after_ms: float | None = None
    """A tool the model waits for that runs this long gets the hold audio (`core.hold`);
    None: no hold audio."""
    hold_pcm: bytes = field(default=b"", repr=False)
    """The hold audio: PCM16 LE at 24 kHz (the model's rate), made once at start-up."""
    hold_audio_file: str | None = None
    """Where the shell loads `hold_pcm` from at start-up (None: the bundled chime)."""
    silence_prompt_ms: float | None = None
    """A caller silent this long after the agent finished speaking is checked on (the model is
    told, `gateway.core.silence`); None: off."""
    silence_hangup_ms: float | None = None
    """Silent this long more after the check-in: the model says goodbye and the call is hung up
    once it was heard; None: never hung up for silence."""

    def __post_init__(self) -> None:
        if self.playback_lead_ms <= 0:
            raise ValueError(f"playback_lead_ms must be positive, got {self.playback_lead_ms}")
        positive = (
            "model_audio_ahead_max_ms",
            "start_timeout_ms",
            "connect_timeout_ms",
            "ending_grace_ms",
            "wrap_up_max_ms",
            "handoff_timeout_ms",
            "live_stall_timeout_ms",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("silence_prompt_ms", "silence_hangup_ms", "hold_after_ms"):
            value = getattr(self, name)
            if value is not None and not 0 < value < float("inf"):
                raise ValueError(f"{name} must be positive or None, got {value}")
        if self.max_running_tools < 1:
            raise ValueError(f"max_running_tools must be >= 1, got {self.max_running_tools}")
        for name in ("connect_buffer_ms", "reconnect_buffer_ms", "handover_quiet_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        try:
            sample = self.dtmf_text.format(digit="7")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"dtmf_text is not a valid template: {exc!r}") from None
        if "pressed 7" not in sample:
            raise ValueError('dtmf_text must contain "pressed {digit}"')

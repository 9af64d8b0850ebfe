"""The call bridge's tunables (one frozen value shared by every call)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BridgeOptions"]


@dataclass(frozen=True, slots=True)
class BridgeOptions:
    playback_lead_ms: float = 400.0
    """Model audio that may sit queued at the carrier; the rest is held locally, where a
    barge-in drops it for free."""
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

    def __post_init__(self) -> None:
        if self.playback_lead_ms <= 0:
            raise ValueError(f"playback_lead_ms must be positive, got {self.playback_lead_ms}")
        for name in ("start_timeout_ms", "connect_timeout_ms", "ending_grace_ms"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.connect_buffer_ms < 0:
            raise ValueError(f"connect_buffer_ms must be >= 0, got {self.connect_buffer_ms}")
        try:
            sample = self.dtmf_text.format(digit="7")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"dtmf_text is not a valid template: {exc!r}") from None
        if "pressed 7" not in sample:
            raise ValueError('dtmf_text must contain "pressed {digit}"')

"""Emulator configuration (one frozen object for the server and every conversation)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from gateway.emulator.dialect import Backend

__all__ = ["Backend", "EmulatorConfig", "ReplyMode"]


class ReplyMode(StrEnum):
    ECHO = "echo"
    """Answer with the caller's own words, resampled 16 -> 24 kHz (a person hears the path)."""
    TONE = "tone"
    """Answer with a sine tone as long as the caller's utterance (for measurements)."""
    STREAM = "stream"
    """Echo every piece of caller audio as it arrives, resampled to 24 kHz: a continuous answer
    as long as the caller's audio, with no turn-taking (no VAD, no `interrupted`). For load
    measurements where the model talks as much as the caller (gateway.emulator.stream)."""


@dataclass(frozen=True)
class EmulatorConfig:
    """How the emulator listens and behaves. Durations are emulated seconds (see `speed`)."""

    host: str = "127.0.0.1"
    port: int = 0
    tls: bool = False
    certfile: Path | None = None
    keyfile: Path | None = None
    plain_paths: tuple[str, ...] = ("/", "/live")
    backend: Backend = Backend.DEVELOPER
    """Which service it is as strict as: the Developer API or Vertex AI (gateway.emulator.dialect:
    paths, credentials, model names, fields each refuses)."""
    vertex_call_ids: bool = False
    """Vertex mode: give tool calls an `id` (default: none, the strictest reading; the Developer
    mode always gives one)."""
    api_keys: frozenset[str] | None = None
    """None: any key (or none) is accepted. Otherwise a key from this set is required (Vertex
    mode: the bearer token)."""
    models: frozenset[str] | None = None
    """None: the backend's own model names (Developer: `models/<id>`, not a Vertex id; Vertex:
    `projects/…/publishers/google/models/<Vertex id>`). Otherwise only these (else close 1008)."""

    mode: ReplyMode = ReplyMode.ECHO
    speed: float = 1.0
    """Emulated seconds per wall-clock second: 10 runs a 10-minute connection in one minute."""
    connection_lifetime_s: float = 600.0
    go_away_lead_s: float = 50.0
    reply_delay_ms: int = 300
    chunk_ms: int = 40
    lead_ms: int = 200
    """How far generation runs ahead of real-time playback (production bursts ahead)."""
    tone_hz: float = 440.0
    tone_dbfs: float = -12.0
    text_reply_ms: int = 800
    """Length of the spoken answer to text input or client content (no caller audio to echo)."""
    min_reply_ms: int = 300
    max_utterance_s: float = 30.0
    vad_threshold_dbfs: float | None = None
    setup_timeout_s: float = 30.0
    handle_ttl_s: float = 7200.0
    keep_audio: bool = True
    keep_messages: bool = True
    """Record every received message (tests); a long-running emulator turns this off."""
    max_message_bytes: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        object.__setattr__(self, "backend", Backend(self.backend))
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        if self.chunk_ms <= 0 or self.connection_lifetime_s <= 0:
            raise ValueError("chunk_ms and connection_lifetime_s must be positive")
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("give both a certificate and a key file, or neither")

"""What the emulator's synchronous logic returns to the server, and what a handle restores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Close", "Memory", "Output", "Send", "duration"]


@dataclass(frozen=True)
class Send:
    """Send this camelCase server message (always as a binary frame)."""

    message: dict[str, Any]


@dataclass(frozen=True)
class Close:
    """Close the connection with this code and reason."""

    code: int
    reason: str


Output = Send | Close


@dataclass(frozen=True)
class Memory:
    """What a resumption handle restores: the session's conversation so far."""

    caller_turns: int = 0
    model_turns: int = 0
    heard: tuple[str, ...] = ()


def duration(seconds: float) -> str:
    """A protobuf Duration string: "50s", "1.5s"."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"{text}s"

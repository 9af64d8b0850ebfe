"""The model's answers in flight: one speaking, at most one queued behind it (NO_INTERRUPTION)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from gateway.emulator.config import EmulatorConfig
from gateway.emulator.replies import OUTPUT_RATE_HZ, Reply

__all__ = ["Finished", "Speaker", "Started", "usage_metadata"]

TOKENS_PER_AUDIO_S = 25


@dataclass(frozen=True)
class Started:
    """The reply's first message is about to go out."""

    reply: Reply


@dataclass(frozen=True)
class Finished:
    """The reply's playback ended: time for `turnComplete`."""

    reply: Reply


Step = Started | dict[str, Any] | Finished


def usage_metadata(prompt_s: float, response_s: float) -> dict[str, Any]:
    """A Developer-API `usageMetadata` body for this much caller and model audio."""
    prompt = round(prompt_s * TOKENS_PER_AUDIO_S)
    response = round(response_s * TOKENS_PER_AUDIO_S)
    return {
        "promptTokenCount": prompt,
        "responseTokenCount": response,
        "totalTokenCount": prompt + response,
        "promptTokensDetails": [{"modality": "AUDIO", "tokenCount": prompt}],
        "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": response}],
    }


class Speaker:
    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self.current: Reply | None = None
        self._queued: Reply | None = None

    @property
    def audible(self) -> bool:
        """An answer has started going out (barge-in now interrupts it)."""
        return self.current is not None and self.current.started

    def schedule(
        self,
        audio: npt.NDArray[np.int16],
        text: str,
        now_s: float,
        source: npt.NDArray[np.int16] | None = None,
    ) -> None:
        """Speak `audio` `reply_delay_ms` from now, or after the audible answer if there is one."""
        config = self._config
        minimum = round(config.min_reply_ms * OUTPUT_RATE_HZ / 1000)
        if len(audio) < minimum:
            audio = np.concatenate([audio, np.zeros(minimum - len(audio), dtype=np.int16)])
        start = now_s + config.reply_delay_ms / 1000
        current = self.current
        if current is not None and current.started:
            start = max(start, current.end_s)
        reply = Reply(
            start_s=start,
            samples=audio,
            text=text,
            chunk_samples=max(1, OUTPUT_RATE_HZ * config.chunk_ms // 1000),
            lead_s=config.lead_ms / 1000,
            source=source,
        )
        if current is not None and current.started:
            self._queued = reply
        else:
            self.current = reply

    def drop_unstarted(self) -> Reply | None:
        """Forget an answer nobody has heard yet; returns it."""
        reply = self.current
        if reply is None or reply.started:
            return None
        self.current = None
        return reply

    def clear(self) -> None:
        self.current = self._queued = None

    def next_s(self) -> float | None:
        return None if self.current is None else self.current.next_due_s()

    def advance(self, now_s: float) -> list[Step]:
        """Everything due by `now_s`, in order; a queued answer follows a finished one."""
        steps: list[Step] = []
        reply = self.current
        while reply is not None and now_s >= reply.next_due_s():
            if not reply.started:
                steps.append(Started(reply))
            steps.extend(reply.take_due(now_s))
            if now_s < reply.end_s or reply.next_chunk < reply.chunk_count:
                break
            steps.append(Finished(reply))
            self.current, self._queued = self._queued, None
            reply = self.current
        return steps

"""One call's Live token usage: every `usageMetadata` of every Live session of the call, summed.

Each `usageMetadata` reports one generation's usage (a turn's prompt count includes the context
the model re-read for it), so the sum over the messages is what is billed. Counts are kept per
kind (prompt, cached, response, tool-use prompt, thoughts, total) and, where the server breaks
them down, per modality (lower-case: `audio`, `text`, ...). A message's tokens of a kind that its
breakdown does not cover are counted under the modality `unspecified`, so each kind's modalities
add up to its count.

A message with an absurd count (negative, or above `MAX_TOKENS` for one message) is not summed:
it is counted in `rejected`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from gateway.live.events import UsageMetadata

__all__ = ["KINDS", "MAX_TOKENS", "MODALITY_KINDS", "CallUsage"]

KINDS: Final = ("prompt", "cached", "response", "tool_use_prompt", "thoughts", "total")
"""Token counts kept per call; the summary names them `<kind>_tokens`."""
MODALITY_KINDS: Final = ("prompt", "response", "cached", "tool_use_prompt")
"""Kinds broken down by modality; the summary names them `<kind>_by_modality`."""
MAX_TOKENS: Final = 10**12
"""More tokens than this in one message is a broken count, not usage."""
MAX_MODALITIES: Final = 8
"""Distinct modality names kept per kind; further names are summed under `other`."""
UNSPECIFIED: Final = "unspecified"


def _counts(event: UsageMetadata) -> dict[str, int]:
    return {
        "prompt": event.prompt_token_count,
        "cached": event.cached_content_token_count,
        "response": event.response_token_count,
        "tool_use_prompt": event.tool_use_prompt_token_count,
        "thoughts": event.thoughts_token_count,
        "total": event.total_token_count,
    }


def _details(event: UsageMetadata) -> dict[str, Mapping[str, int]]:
    return {
        "prompt": event.prompt_tokens_by_modality,
        "response": event.response_tokens_by_modality,
        "cached": event.cached_tokens_by_modality,
        "tool_use_prompt": event.tool_use_prompt_tokens_by_modality,
    }


def _sane(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKENS


class CallUsage:
    """Sums one call's `UsageMetadata` events, across all its Live sessions."""

    def __init__(self) -> None:
        self.messages = 0
        """usageMetadata messages summed."""
        self.rejected = 0
        """usageMetadata messages ignored because a count was absurd."""
        self._tokens = dict.fromkeys(KINDS, 0)
        self._by_modality: dict[str, dict[str, int]] = {kind: {} for kind in MODALITY_KINDS}

    def add(self, event: UsageMetadata) -> None:
        """Sum one message (or count it in `rejected` when a figure in it is absurd)."""
        counts = _counts(event)
        details = _details(event)
        if not all(_sane(value) for value in counts.values()) or not all(
            _sane(value) for breakdown in details.values() for value in breakdown.values()
        ):
            self.rejected += 1
            return
        self.messages += 1
        for kind, value in counts.items():
            self._tokens[kind] += value
        for kind, breakdown in details.items():
            covered = 0
            for modality, value in breakdown.items():
                self._add_modality(kind, str(modality).lower(), value)
                covered += value
            if counts[kind] > covered:
                self._add_modality(kind, UNSPECIFIED, counts[kind] - covered)

    def tokens(self, kind: str) -> int:
        """The call's tokens of one of `KINDS`."""
        return self._tokens[kind]

    def by_modality(self, kind: str) -> dict[str, int]:
        """The call's tokens of one of `MODALITY_KINDS`, by lower-case modality name."""
        return dict(self._by_modality[kind])

    def summary(self) -> dict[str, Any]:
        """JSON-safe figures for the `call.ended` line: `messages`, `rejected`, `<kind>_tokens`
        for every kind and `<kind>_by_modality` for the kinds broken down by modality."""
        result: dict[str, Any] = {"messages": self.messages, "rejected": self.rejected}
        for kind in KINDS:
            result[f"{kind}_tokens"] = self._tokens[kind]
        for kind in MODALITY_KINDS:
            result[f"{kind}_by_modality"] = dict(sorted(self._by_modality[kind].items()))
        return result

    def _add_modality(self, kind: str, modality: str, value: int) -> None:
        if value == 0:
            return
        counts = self._by_modality[kind]
        if modality not in counts and len(counts) >= MAX_MODALITIES:
            modality = "other"
        counts[modality] = counts.get(modality, 0) + value

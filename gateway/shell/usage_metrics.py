"""Per agent profile: calls, Live tokens and estimated cost, from each finished call's summary.

Fed by `GatewayMetrics.observe` once per call (never per frame). The tokens come from the
`call.ended` summary's `usage` (`CallUsage.summary()`), the cost from its `cost` (present when a
price table is configured: `PriceTable.estimate`). Label values are folded and capped by the
`fold` callables the caller passes (`metrics._Labels`), so a profile, modality or currency name
cannot grow the series count without bound (currencies are shown upper-case: `USD`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter

from gateway.shell.runtime import CallRecord

__all__ = ["TOKEN_KINDS", "UsageMetrics"]

TOKEN_KINDS: Final = ("prompt", "response", "cached", "tool_use_prompt", "thoughts")
"""The `kind` label of `gateway_live_tokens_total`; thoughts are counted as modality `text`."""
_BY_MODALITY: Final = ("prompt", "response", "cached", "tool_use_prompt")
UNSPECIFIED: Final = "unspecified"

Fold = Callable[[object], str]


def _count(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) and value > 0 else 0.0


class UsageMetrics:
    """The per-profile counters, registered in the app's registry."""

    def __init__(
        self, registry: CollectorRegistry, *, profiles: Fold, modalities: Fold, currencies: Fold
    ) -> None:
        self._profiles = profiles
        self._modalities = modalities
        self._currencies = currencies
        self.calls = Counter(
            "gateway_calls_by_profile",
            "Calls ended, by the agent profile that answered them",
            ["profile"],
            registry=registry,
        )
        self.tokens = Counter(
            "gateway_live_tokens",
            "Live tokens used by ended calls, by profile, kind and modality (summed usageMetadata)",
            ["profile", "kind", "modality"],
            registry=registry,
        )
        self.cost = Counter(
            "gateway_call_cost",
            "Estimated cost of ended calls' Live tokens, from the operator's price table",
            ["profile", "currency"],
            registry=registry,
        )

    def observe(self, record: CallRecord) -> None:
        """Account one finished call."""
        profile = self._profiles(record.profile)
        self.calls.labels(profile).inc()
        usage = record.summary.get("usage")
        if isinstance(usage, Mapping):
            for kind, modality, tokens in _token_counts(usage):
                self.tokens.labels(profile, kind, self._modalities(modality)).inc(tokens)
        cost = record.summary.get("cost")
        if isinstance(cost, Mapping):
            amount = _count(cost.get("amount"))
            currency = cost.get("currency")
            if amount and isinstance(currency, str):
                self.cost.labels(profile, self._currencies(currency).upper()).inc(amount)


def _token_counts(usage: Mapping[str, Any]) -> list[tuple[str, str, float]]:
    """(kind, modality, tokens) of a usage summary; what a kind's breakdown does not cover is
    `unspecified`, thoughts are `text`."""
    counts: list[tuple[str, str, float]] = []
    for kind in _BY_MODALITY:
        raw = usage.get(f"{kind}_by_modality")
        covered = 0.0
        for modality, value in raw.items() if isinstance(raw, Mapping) else ():
            tokens = _count(value)
            if tokens:
                counts.append((kind, str(modality), tokens))
                covered += tokens
        missing = _count(usage.get(f"{kind}_tokens")) - covered
        if missing > 0:
            counts.append((kind, UNSPECIFIED, missing))
    thoughts = _count(usage.get("thoughts_tokens"))
    if thoughts:
        counts.append(("thoughts", "text", thoughts))
    return counts

"""The operator's price table (TOML): what a call's Live tokens cost, as an estimate.

```toml
currency = "USD"
[models."gemini-2.5-flash-native-audio-preview-12-2025"]
prompt_audio = 3.00     # per million tokens
prompt_text = 0.50
response_audio = 12.00
response_text = 2.00
```

Price keys are `<kind>_<modality>`: kinds `prompt`, `cached`, `response`; modalities `audio`,
`text`, `image`, `video`, `document`; each in `currency` per million tokens. How a call's usage
(`CallUsage.summary()`) is priced, by `PriceTable.estimate`:

* prompt tokens at the prompt price of their modality; cached tokens are part of the prompt
  tokens and, where a cached price is set for their modality, are charged at it instead;
* response tokens at the response price of their modality;
* thoughts tokens at `response_text` and tool-use prompt tokens at `prompt_text` (assumptions:
  the usage does not say how they are billed);
* tokens with no price (a modality missing from the table, or `unspecified`) are not guessed:
  they are counted in `unpriced_tokens`.

Prices change; the table is the operator's, and the amount is an estimate, not a bill.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

__all__ = [
    "PRICE_KEYS",
    "PriceTable",
    "PricesFileError",
    "base_model_name",
    "load_prices",
    "parse_prices",
]

PRICE_KINDS: Final = ("prompt", "cached", "response")
MODALITIES: Final = ("audio", "text", "image", "video", "document")
PRICE_KEYS: Final = tuple(f"{kind}_{modality}" for kind in PRICE_KINDS for modality in MODALITIES)
"""Every key a model's table may hold."""
PER_TOKENS: Final = 1_000_000
_CURRENCY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,15}")


class PricesFileError(ValueError):
    """The price file cannot be used; the message has one line per mistake, each naming the
    file and, where they apply, the model and the key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


def base_model_name(model: str) -> str:
    """`models/x`, a Vertex `projects/.../publishers/google/models/x` and `x` all give `x`."""
    return model.strip().rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class PriceTable:
    """Prices per million tokens, by model base name and price key (`PRICE_KEYS`)."""

    currency: str
    models: Mapping[str, Mapping[str, float]]

    def estimate(self, model: str, usage: Mapping[str, Any]) -> dict[str, Any] | None:
        """What `usage` (a `CallUsage.summary()`) costs with `model` (any spelling of it):
        `{"currency", "amount" (6 decimals), "model" (base name), "unpriced_tokens"}`.
        None when the table has no entry for the model."""
        name = base_model_name(model)
        prices = self.models.get(name)
        if prices is None:
            return None
        bill = _Bill(prices)
        cached = _modalities(usage, "cached")
        for modality, tokens in _modalities(usage, "prompt").items():
            cached_tokens = min(cached.get(modality, 0), tokens)
            if cached_tokens and f"cached_{modality}" in prices:
                bill.charge(cached_tokens, f"cached_{modality}")
                tokens -= cached_tokens
            bill.charge(tokens, f"prompt_{modality}")
        for modality, tokens in _modalities(usage, "response").items():
            bill.charge(tokens, f"response_{modality}")
        bill.charge(_count(usage.get("thoughts_tokens")), "response_text")
        bill.charge(_count(usage.get("tool_use_prompt_tokens")), "prompt_text")
        amount = round(bill.amount / PER_TOKENS, 6)
        return {
            "currency": self.currency,
            "amount": float(amount),
            "model": name,
            "unpriced_tokens": bill.unpriced,
        }


class _Bill:
    def __init__(self, prices: Mapping[str, float]) -> None:
        self._prices = prices
        self.amount = Decimal(0)  # currency per million tokens, times tokens
        self.unpriced = 0

    def charge(self, tokens: int, key: str) -> None:
        if tokens <= 0:
            return
        price = self._prices.get(key)
        if price is None:
            self.unpriced += tokens
        else:
            self.amount += Decimal(repr(price)) * tokens


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return max(value, 0)


def _modalities(usage: Mapping[str, Any], kind: str) -> dict[str, int]:
    """A kind's tokens by modality, with what the breakdown misses as `unspecified`."""
    raw = usage.get(f"{kind}_by_modality")
    by_modality = {
        str(name): _count(value)
        for name, value in (raw.items() if isinstance(raw, Mapping) else ())
        if _count(value)
    }
    missing = _count(usage.get(f"{kind}_tokens")) - sum(by_modality.values())
    if missing > 0:
        by_modality["unspecified"] = by_modality.get("unspecified", 0) + missing
    return by_modality


def load_prices(path: Path) -> PriceTable:
    """Read and check a price file; every mistake in it is reported at once."""
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except OSError as error:
        raise PricesFileError([f"{path}: cannot read: {error.strerror or error}"]) from None
    except tomllib.TOMLDecodeError as error:
        raise PricesFileError([f"{path}: not valid TOML: {error}"]) from None
    return parse_prices(data, str(path))


def parse_prices(data: Mapping[str, Any], source: str) -> PriceTable:
    """Check a parsed price file (`source` names it in messages)."""
    problems: list[str] = []
    for key in data:
        if key not in ("currency", "models"):
            problems.append(f"{source}: {key}: unknown key (expected currency, models)")
    currency = data.get("currency")
    if currency is None:
        problems.append(f'{source}: currency: missing (e.g. currency = "USD")')
    elif not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        problems.append(f"{source}: currency: must be a short code such as USD (got {currency!r})")
    models: dict[str, dict[str, float]] = {}
    raw_models = data.get("models")
    if raw_models is None:
        problems.append(f'{source}: models: missing (add a [models."<model>"] table)')
    elif not isinstance(raw_models, Mapping):
        problems.append(f'{source}: models: must be tables, [models."<model>"]')
    else:
        for model, raw in raw_models.items():
            _parse_model(source, str(model), raw, models, problems)
    if problems:
        raise PricesFileError(problems)
    assert isinstance(currency, str)
    return PriceTable(currency=currency, models=models)


def _parse_model(
    source: str, model: str, raw: object, models: dict[str, dict[str, float]], problems: list[str]
) -> None:
    where = f'{source}: models."{model}"'
    name = base_model_name(model)
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be a table of prices")
        return
    if not name:
        problems.append(f"{where}: not a model name")
        return
    if name in models:
        problems.append(f'{where}: the model "{name}" has prices already')
        return
    prices: dict[str, float] = {}
    for key, value in raw.items():
        at = f"{where}.{key}"
        if key not in PRICE_KEYS:
            if isinstance(value, Mapping):
                problems.append(
                    f"{at}: a table, not a price (quote model names that contain dots: "
                    f'[models."gemini-2.5-flash-..."])'
                )
            else:
                problems.append(f"{at}: unknown key (expected {', '.join(PRICE_KEYS)})")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{at}: must be a number, per million tokens (got {value!r})")
        elif not math.isfinite(value):
            problems.append(f"{at}: must be a finite number (got {value!r})")
        elif value < 0:
            problems.append(f"{at}: must not be negative (got {value!r})")
        else:
            prices[key] = float(value)
    if not raw:
        problems.append(f"{where}: no prices (set some of {', '.join(PRICE_KEYS[:2])}, ...)")
    models[name] = prices

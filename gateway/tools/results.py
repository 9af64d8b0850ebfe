"""Tool responses for the model: plain JSON, and never larger than the tool's limit.

Size is counted as compact UTF-8 JSON, the way the response travels in `toolResponse`. A response
over the limit is cut structurally so that it stays valid JSON the model can read: the walk keeps
keys and list items in order while a byte budget lasts (list items whole, but for the first),
shortens the string where the budget ends (marked with "…"), notes how many list items it
dropped (`"… 37 more items"`), and adds `"truncated": true` with the size it would have had.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["encoded_size", "json_value", "limit_response"]

_ELLIPSIS: Final = "…"
_MIN_BUDGET: Final = 16


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encoded_size(value: Any) -> int:
    """Bytes of `value` as compact UTF-8 JSON (never raises for text: a lone surrogate, which
    `Toolbox.run` replaces anyway, counts the 3 bytes its replacement takes)."""
    return len(_dumps(value).encode("utf-8", "surrogatepass"))


def json_value(value: Any) -> Any:
    """`value` as plain JSON data (tuples become lists); TypeError/ValueError if it is not JSON
    (a set, an object, NaN)."""
    return json.loads(_dumps(value))


def limit_response(response: Mapping[str, Any], max_bytes: int) -> tuple[dict[str, Any], bool]:
    """`response` cut to at most `max_bytes` (see the module doc); True when it was cut."""
    size = encoded_size(response)
    if size <= max_bytes:
        return dict(response), False
    note = {"truncated": True, "original_bytes": size}
    budget = max_bytes - encoded_size(note)
    while budget > _MIN_BUDGET:
        cut = _shrink(dict(response), budget)
        candidate = {**cut, **note}
        if encoded_size(candidate) <= max_bytes:
            return candidate, True
        budget = budget * 3 // 4
    return note, True


def _shrink(value: Any, budget: int) -> Any:
    if isinstance(value, str):
        return _cut_text(value, budget)
    if isinstance(value, list):
        return _shrink_list(value, budget)
    if isinstance(value, dict):
        return _shrink_dict(value, budget)
    return value


def _cut_text(text: str, budget: int) -> str:
    if encoded_size(text) <= budget:
        return text
    room = max(budget - 2 - len(_ELLIPSIS.encode()), 0)
    # JSON escapes can double a character's size: shorten until the encoded text fits.
    cut = text.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore")
    while cut and encoded_size(cut + _ELLIPSIS) > budget:
        cut = cut[: max(len(cut) * 3 // 4, len(cut) - 64)]
    return cut + _ELLIPSIS


def _shrink_list(items: list[Any], budget: int) -> list[Any]:
    out: list[Any] = []
    remaining = budget - 2
    for index, item in enumerate(items):
        if remaining <= _MIN_BUDGET:
            out.append(f"{_ELLIPSIS} {len(items) - index} more items")
            break
        size = encoded_size(item)
        if size > remaining and out:  # whole items only, but for the first one
            out.append(f"{_ELLIPSIS} {len(items) - index} more items")
            break
        piece = item if size <= remaining else _shrink(item, remaining)
        out.append(piece)
        remaining -= encoded_size(piece) + 1
    return out


def _shrink_dict(mapping: dict[str, Any], budget: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    remaining = budget - 2
    for key, item in mapping.items():
        cost = encoded_size(key) + 2
        if remaining - cost <= _MIN_BUDGET:
            break
        piece = _shrink(item, remaining - cost)
        out[key] = piece
        remaining -= cost + encoded_size(piece)
    return out

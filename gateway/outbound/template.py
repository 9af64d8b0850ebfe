"""Placeholders in a profile's texts (`{customer_name}`) and their filling (pure).

A placeholder is a lower-case identifier in braces; any other brace (JSON in instructions,
`{{`) is left as written. `placeholders` finds them, `fill` replaces them with the call's
variables (every one must have a value: the API refuses the call otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

__all__ = ["PLACEHOLDER", "fill", "placeholders"]

PLACEHOLDER: Final = re.compile(r"(?<!\{)\{([a-z_][a-z0-9_]{0,63})\}(?!\})")


def placeholders(texts: Iterable[str | None]) -> frozenset[str]:
    """The placeholder names the texts use."""
    return frozenset(m.group(1) for text in texts if text for m in PLACEHOLDER.finditer(text))


def fill(text: str, variables: Mapping[str, str]) -> str:
    """`text` with each placeholder replaced (KeyError naming a placeholder without a value)."""
    return PLACEHOLDER.sub(lambda m: variables[m.group(1)], text)
